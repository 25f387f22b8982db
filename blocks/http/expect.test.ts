import { strict as assert } from 'node:assert';
import { Expect, ExpectOptions } from './expect';
import { httpBlock, HttpOptions } from './index';
import { lookup, parseJsonPath } from './json-path';

type Opts = Omit<HttpOptions, 'name'>;

// The http block's pure parts, without a server: JSON paths, expectations, option checks.
describe('http block: checks without a server', () => {
  describe('json paths', () => {
    const doc = { a: { b: [10, 20, { 'c.d': 'x' }] }, s: 'hello', list: [1, 2], obj: { length: 9 } };
    const cases: Array<[string, string, unknown]> = [
      ['the document', '$', doc],
      ['nested keys', '$.a.b', [10, 20, { 'c.d': 'x' }]],
      ['an index', '$.a.b[1]', 20],
      ['a negative index', '$.a.b[-1]["c.d"]', 'x'],
      ['a single-quoted key', "$.a.b[2]['c.d']", 'x'],
      ['a numeric key on a list', '$.a.b.0', 10],
      ['length of a list', '$.list.length', 2],
      ['length of a string', '$.s.length', 5],
      ['a key named length wins', '$.obj.length', 9],
    ];
    for (const [name, p, want] of cases) it(name, () => assert.deepEqual(lookup(doc, parseJsonPath(p)), { found: true, value: want }));

    const missing: Array<[string, string, string]> = [
      ['a missing key', '$.a.x', '$.a has no key "x"'],
      ['an index past the end', '$.list[5]', '$.list has 2 items, no [5]'],
      ['a key into a string', '$.s.x', '$.s is a string, not an object'],
      ['an index into an object', '$.a[0]', '$.a is an object, not a list'],
    ];
    for (const [name, p, why] of missing) it(`not found: ${name}`, () => assert.deepEqual(lookup(doc, parseJsonPath(p)), { found: false, why }));

    const bad: Array<[string, string, string]> = [
      ['no $', 'a.b', 'must start with $ (the document), e.g. $.data.status'],
      ['an empty key', '$.a..b', 'expected a key after the "." at character 4'],
      ['a bad bracket', '$.a[b]', 'expected [number] or ["key"] at character 4'],
      ['junk after $', '$a', 'unexpected "a" at character 2; write .key, ["key"] or [index]'],
    ];
    for (const [name, p, msg] of bad) it(`rejects ${name}`, () => assert.throws(() => parseJsonPath(p), { message: msg }));
  });

  describe('expect', () => {
    const headers: Record<string, string> = { 'content-type': 'text/html' };
    const response = { status: 200, header: (n: string) => headers[n], body: '<html>hello</html>', totalMs: 12.34 };
    const cases: Array<[string, ExpectOptions, Partial<typeof response> & { certDaysLeft?: number; cut?: { kept: number; size: number } }, string[]]> = [
      ['default status takes 2xx and 3xx', {}, { status: 301 }, []],
      ['default status refuses 4xx', {}, { status: 404 }, ['status 404, expected 2xx or 3xx']],
      ['one status', { status: 200 }, { status: 503 }, ['status 503, expected 200']],
      ['a status list with a range', { status: [200, '204', '300-302'] }, { status: 404 }, ['status 404, expected 200, 204 or 300-302']],
      ['a status class', { status: '4xx' }, { status: 404 }, []],
      ['body substring', { body: 'goodbye' }, {}, ['body does not contain "goodbye" (it starts with "<html>hello</html>")']],
      ['body regex', { body: { regex: '^<html>h' } }, {}, []],
      ['body regex failing', { body: { regex: 'bye$' } }, {}, ['body does not match /bye$/ (it starts with "<html>hello</html>")']],
      ['empty body', { body: 'x' }, { body: '' }, ['body does not contain "x" (the body is empty)']],
      ['a cut body says so', { body: 'x' }, { cut: { kept: 18, size: 90 } },
        ['body does not contain "x" (it starts with "<html>hello</html>") (only the first 18 of 90 bytes are checked; see max_body)']],
      ['header names in any case', { headers: { 'Content-Type': 'html' } }, {}, []],
      ['header mismatch', { headers: { 'content-type': 'json' } }, {}, ['header content-type is "text/html", expected it to contain "json"']],
      ['header regex', { headers: { 'content-type': { regex: '^text/' } } }, {}, []],
      ['missing header', { headers: { 'x-id': { regex: '.' } } }, {}, ['header x-id is missing, expected it to match /./']],
      ['max_ms', { max_ms: 10 }, {}, ['total_ms 12.3, expected at most 10']],
      ['cert_min_days', { cert_min_days: 14 }, { certDaysLeft: 9.46 }, ['certificate expires in 9.5 days, expected at least 14']],
      ['an expired cert', { cert_min_days: 14 }, { certDaysLeft: -2 }, ['certificate expired 2 days ago, expected at least 14 days left']],
      ['cert_min_days ignores plain http', { cert_min_days: 14 }, {}, []],
      ['every failure is listed', { status: 200, body: 'bye', max_ms: 1 }, { status: 500 },
        ['status 500, expected 200', 'body does not contain "bye" (it starts with "<html>hello</html>")', 'total_ms 12.3, expected at most 1']],
      ['json on a non-JSON body', { json: { '$.a': 1 } }, {}, ['body is not JSON (it starts with "<html>hello</html>")']],
    ];
    for (const [name, o, r, want] of cases) {
      it(name, () => {
        const { expect, problems } = Expect.compile(o);
        assert.deepEqual(problems, []);
        assert.deepEqual(expect!.failures({ ...response, ...r }), want);
      });
    }

    const doc = JSON.stringify({ data: { status: 'degraded', items: [1, 2, 3] }, count: 2, countText: '5', name: 'web-01', ok: true, none: null });
    const json: Array<[string, Record<string, string | number | boolean | null>, string[]]> = [
      ['equal string', { '$.data.status': 'degraded' }, []],
      ['unequal string', { '$.data.status': 'ok' }, ['json $.data.status is "degraded", expected "ok"']],
      ['numbers, booleans and null', { '$.count': 2, '$.ok': true, '$.none': null }, []],
      ['a number is not a numeric string', { '$.countText': 5 }, ['json $.countText is "5", expected 5']],
      ['>= failing', { '$.count': '>= 3' }, ['json $.count is 2, expected >= 3']],
      ['ordered comparisons take numeric strings', { '$.countText': '> 4.5', '$.count': '<2.5' }, []],
      ['an ordered comparison with text fails', { '$.name': '> 1' }, ['json $.name is "web-01", expected > 1']],
      ['== and != read JSON literals', { '$.count': '== 2', '$.ok': '== true', '$.data.status': '!= ok', '$.none': '== null' }, []],
      ['!= failing', { '$.data.status': '!= degraded' }, ['json $.data.status is "degraded", expected != "degraded"']],
      ['regex', { '$.name': '=~ ^web-\\d+$', '$.data.status': '!~ ^ok' }, []],
      ['regex failing', { '$.name': '=~ ^db' }, ['json $.name is "web-01", expected to match /^db/']],
      ['length', { '$.data.items.length': '>= 3' }, []],
      ['an object is shown as such', { '$.data': 'x' }, ['json $.data is an object {"status":"degraded","items":[1,2,3]}, expected "x"']],
      ['not found', { '$.data.missing': 1 }, ['json $.data.missing not found: $.data has no key "missing"']],
    ];
    for (const [name, o, want] of json) {
      it(`json: ${name}`, () => {
        const { expect } = Expect.compile({ json: o });
        assert.deepEqual(expect!.failures({ ...response, body: doc }), want);
      });
    }
  });

  describe('check', () => {
    const cases: Array<[string, Partial<Opts>, Array<[string, string]>]> = [
      ['a valid block', { url: 'https://example.com/x', expect: { status: [200, '2xx'], json: { '$.a': '>= 1' } } }, []],
      ['both auths', { basic_auth: { username: 'a', password: 'b' }, bearer_token: 't' }, [['bearer_token', 'use either basic_auth or bearer_token, not both']]],
      ['auth and an Authorization header', { bearer_token: 't', headers: { Authorization: 'x' } },
        [['bearer_token', 'headers already has an Authorization header; use one of them']]],
      ['a colon in the user', { basic_auth: { username: 'a:b' } }, [['basic_auth.username', 'must not contain ":" (basic authentication separates user and password with it)']]],
      ['max_redirects without following', { follow_redirects: false, max_redirects: 3 }, [['max_redirects', 'has no effect with follow_redirects: false; remove one of them']]],
      ['ca without verification', { tls_verify: false, ca: 'ca.pem' }, [['ca', 'has no effect with tls_verify: false; remove one of them']]],
      ['a bad header name', { headers: { 'bad name': 'x' } }, [['headers', '"bad name" is not a valid header name (letters, digits and !#$%&\'*+.^_`|~-)']]],
      ['a HEAD with a body check', { method: 'HEAD', expect: { body: 'x' } }, [['expect.body', 'a HEAD response has no body to check; use GET']]],
      ['an empty status range', { expect: { status: '299-200' } }, [['expect.status', 'range 299-200 is empty; write the lower status first, e.g. 200-299']]],
      ['a bad JSON path', { expect: { json: { 'data.x': 1 } } }, [['expect.json', '"data.x" is not a JSON path: must start with $ (the document), e.g. $.data.status']]],
      ['a comparison without a number', { expect: { json: { '$.a': '>= many' } } }, [['expect.json', '"$.a": ">= many": >= needs a number, e.g. ">= 3"']]],
      ['a bad regex comparison', { expect: { json: { '$.a': '=~ (' } } },
        [['expect.json', '"$.a": "=~ (": not a valid regular expression: Invalid regular expression: /(/: Unterminated group']]],
      ['a bad body regex', { expect: { body: { regex: '[' } } },
        [['expect.body.regex', 'is not a valid regular expression: Invalid regular expression: /[/: Unterminated character class']]],
    ];
    for (const [name, o, want] of cases) {
      it(name, () => assert.deepEqual(httpBlock.check!({ name: 'c', url: 'http://127.0.0.1/', ...o }), want));
    }
  });

});
