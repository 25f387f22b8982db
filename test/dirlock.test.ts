/**
 * The LOCK that keeps two remon processes out of one directory under node.data: held by a
 * real second process here, and taken over once that process is killed.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { claimDir } from '../src/util/dirlock';
import { stopChild, tmpDir } from './helpers';

const DIRLOCK = path.join(__dirname, '..', 'src', 'util', 'dirlock.js');

/** holdIn starts a process that claims dir and waits; it resolves once the claim is made. */
async function holdIn(dir: string) {
  const script = `require(${JSON.stringify(DIRLOCK)}).claimDir(${JSON.stringify(dir)}, 'REMON_ERR_DATA_IN_USE', 'test'); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

describe('node.data directory lock', () => {
  it('refuses a directory another live process holds, naming it; takes it over once that process is killed', async () => {
    const dir = tmpDir();
    const holder = await holdIn(dir);
    try {
      assert.equal(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8'), `${holder.pid}\n`);
      assert.throws(() => claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the RRD store'), {
        code: 'REMON_ERR_DATA_IN_USE',
        message: `the RRD store in ${dir} is in use by process ${holder.pid}; two nodes cannot share one node.data`,
      });
    } finally {
      holder.kill('SIGKILL');
      await stopChild(holder, 1000);
    }
    // The LOCK the killed process left names a pid that is gone.
    assert.equal(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8'), `${holder.pid}\n`);
    const claim = claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the RRD store');
    assert.equal(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8'), `${process.pid}\n`);
    claim.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('refuses a second claim in the same process until the first is released', () => {
    const dir = tmpDir();
    const claim = claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the heartbeat journal');
    assert.throws(() => claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the heartbeat journal'), {
      code: 'REMON_ERR_DATA_IN_USE',
      message: `the heartbeat journal in ${dir} is open already in this process`,
    });
    claim.release();
    claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the heartbeat journal').release();
  });

  it('takes over a LOCK without a readable pid (a crash while it was being made)', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'LOCK'), '');
    const claim = claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'test');
    assert.equal(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8'), `${process.pid}\n`);
    claim.release();
  });

  it('says why when the directory cannot be written', () => {
    const missing = path.join(tmpDir(), 'not-there');
    assert.throws(() => claimDir(missing, 'REMON_ERR_DATA_IN_USE', 'test'), (err: Error & { code: string }) => {
      assert.equal(err.code, 'REMON_ERR_DATA_IN_USE');
      assert.match(err.message, new RegExp(`^cannot lock ${missing} for test: ENOENT`));
      return true;
    });
  });
});
