import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PagesNode, rawRequest, shownError, startPagesNode } from './pages-harness';

const SECRET = 'SECRET-OUTSIDE-THE-PAGE-FOLDERS';


describe('pages: nothing outside the page folders is served or read', function () {
  this.timeout(20_000);
  let n: PagesNode;
  before(async () => {
    n = await startPagesNode({
      files: {
        'index.html': 'home',
        'static/app.css': 'body{}',
        'static/.hidden': SECRET,
        'inc-up.html': "{% include '../secret.txt' %}",
        'inc-up2.html': "{% include 'static/../../secret.txt' %}",
        'inc-abs.html': '{% render "/etc/passwd" %}',
        'inc-link.html': "{% include 'link-out.html' %}",
        'layout-up.html': "{% layout '../secret.txt' %}x",
        'inc-nul.html': '{% include "index.html\u0000" %}',
        'inc-dyn.js': 'module.exports = { GET: (req) => ({ f: req.query.f }) };',
        'inc-dyn.html': '{% include f %}',
      },
    });
    fs.writeFileSync(path.join(n.dir, 'secret.txt'), SECRET);
    fs.mkdirSync(path.join(n.dir, 'outside'));
    fs.writeFileSync(path.join(n.dir, 'outside', 'secret.txt'), SECRET);
    fs.symlinkSync(path.join(n.dir, 'secret.txt'), path.join(n.web, 'static', 'link-out.txt'));
    fs.symlinkSync(path.join(n.dir, 'outside'), path.join(n.web, 'static', 'dir-out'));
    fs.symlinkSync(path.join(n.dir, 'secret.txt'), path.join(n.web, 'evil.html'));
    fs.symlinkSync(path.join(n.dir, 'secret.txt'), path.join(n.web, 'link-out.html'));
    fs.symlinkSync(path.join(n.web, 'index.html'), path.join(n.web, 'link-in.html'));
  });
  after(() => n.stop());

  const refused = [
    '/..%2f..%2fetc/passwd',
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/static/../secret.txt',
    '/static/../../secret.txt',
    '/static/../../../../../../etc/passwd',
    '/static/%2e%2e/%2e%2e/secret.txt',
    '/static/..%2f..%2fsecret.txt',
    '/static/..%5c..%5csecret.txt',
    '/static/%2fetc%2fpasswd',
    '/static//etc/passwd',
    '/static/app.css%00.txt',
    '/static/%00',
    '/index%00',
    '/index.html%00',
    '/static/.hidden',
    '/static/link-out.txt',
    '/static/dir-out/secret.txt',
    '/evil',
    '/static/%zz',
  ];
  for (const p of refused) {
    it(`GET ${p} → 404, nothing read`, async () => {
      const r = await rawRequest(n.url, p);
      assert.equal(r.status, 404, r.body);
      assert.ok(!r.body.includes(SECRET) && !r.body.includes('root:'), r.body);
    });
  }

  it('a link to a file inside the folder is served; the folder itself stays usable', async () => {
    assert.equal((await rawRequest(n.url, '/link-in')).body, 'home');
    assert.equal((await rawRequest(n.url, '/static/app.css')).body, 'body{}');
  });

  const templates: Array<[string, string]> = [
    ['/inc-up', '"../secret.txt" is not a page file: templates include and lay out files of the page folders only, named relative to a folder, without ".."'],
    ['/inc-up2', '"static/../../secret.txt" is not a page file'],
    ['/inc-abs', '"/etc/passwd" is not a page file'],
    ['/inc-link', 'no file "link-out.html" in the page folders (or it links outside them)'],
    ['/layout-up', '"../secret.txt" is not a page file'],
    ['/inc-nul', 'is not a page file'],
    [`/inc-dyn?f=${encodeURIComponent('../secret.txt')}`, '"../secret.txt" is not a page file'],
    [`/inc-dyn?f=${encodeURIComponent('/etc/passwd')}`, '"/etc/passwd" is not a page file'],
  ];
  for (const [p, message] of templates) {
    it(`a template naming a file outside (${p}) is refused with the page's error`, async () => {
      const r = await rawRequest(n.url, p);
      assert.equal(r.status, 500);
      assert.ok(!r.body.includes(SECRET) && !r.body.includes('root:'), r.body);
      const shown = shownError(r.body);
      assert.ok(shown.includes(message), shown);
      assert.ok(!shown.includes(n.dir), `the error names no absolute path: ${shown}`);
    });
  }
});
