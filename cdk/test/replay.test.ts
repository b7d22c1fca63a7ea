// The documented replay of a dropped upload, against a stand-in `aws` command that plays the
// SQS queue and the trigger (no AWS here): bodies reach the trigger byte for byte, and only an
// accepted message is deleted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../lib/config';

const SCRIPT = path.join(repoRoot(), 'cdk', 'scripts', 'replay-dropped-uploads.sh');
// The on-failure record Lambda writes for a dropped S3 event (compact, as SQS delivers it).
const RECORD = JSON.stringify(
  JSON.parse(readFileSync(path.join(repoRoot(), 'tests', 'fixtures', 'events', 'trigger-failure-record.json'), 'utf8')),
);

function fakeAws(dir: string): void {
  // Receives two messages once, then none; the trigger fails a payload containing "still-broken".
  writeFileSync(
    path.join(dir, 'aws'),
    `#!/usr/bin/env bash
set -euo pipefail
log="${dir}/calls.log"
echo "$*" >>"$log"
if [ "$1 $2" = "${'$'}{BROKEN:-}" ]; then echo "An error occurred (AccessDeniedException)" >&2; exit 254; fi
case "$1 $2" in
  "sqs get-queue-url") echo "https://sqs.eu-west-1.amazonaws.com/123456789012/$4" ;;
  "sqs receive-message")
    if [ ! -e "${dir}/received" ]; then
      touch "${dir}/received"
      printf 'handle-1\\t%s\\n' "$(cat "${dir}/body1")"
      printf 'handle-2\\t%s\\n' "$(cat "${dir}/body2")"
    else
      echo None
    fi ;;
  "lambda invoke")
    for a in "$@"; do case "$a" in fileb://*) payload="\${a#fileb://}" ;; esac; done
    out="\${@: -1}"
    cat "$payload" >>"${dir}/payloads"; echo >>"${dir}/payloads"
    if grep -q still-broken "$payload"; then echo '{"errorType":"StartExecutionFailed"}' >"$out"; echo Unhandled
    else echo '[{"outcome":"started"}]' >"$out"; echo None; fi ;;
  "sqs delete-message" | "sqs change-message-visibility") ;;
  *) echo "unexpected: $*" >&2; exit 9 ;;
esac
`,
  );
  chmodSync(path.join(dir, 'aws'), 0o755);
}

function run(args: string[], broken = '') {
  const dir = mkdtempSync(path.join(tmpdir(), 'substation-replay-'));
  fakeAws(dir);
  writeFileSync(path.join(dir, 'body1'), RECORD);
  assert.ok(RECORD.includes('uploads/Fleet'));
  writeFileSync(path.join(dir, 'body2'), RECORD.replace('uploads/Fleet', 'uploads/still-broken-Fleet'));
  const r = spawnSync('bash', [SCRIPT, ...args], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, BROKEN: broken },
    encoding: 'utf8',
  });
  const read = (f: string) => {
    try {
      return readFileSync(path.join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  return { ...r, calls: read('calls.log').trim().split('\n'), payloads: read('payloads').trim().split('\n') };
}

it('replays each queued event to the stage trigger and deletes only the accepted ones', () => {
  const r = run(['dev']);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(r.payloads[0], RECORD, 'the body reaches the trigger unchanged');
  assert.equal(r.payloads.length, 2);
  assert.ok(r.calls.some((c) => c.startsWith('lambda invoke --function-name substation-dev-trigger ')));
  const deletes = r.calls.filter((c) => c.startsWith('sqs delete-message'));
  assert.deepEqual(deletes, [
    'sqs delete-message --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/substation-dev-trigger-failures --receipt-handle handle-1',
  ]);
  assert.match(r.stdout, /1 replayed, 1 still failing/);
  assert.match(r.stderr, /still failing \(Unhandled\)/);
});

it('--dry-run invokes nothing, deletes nothing, and makes the messages visible again', () => {
  const r = run(['dev', '--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.calls.some((c) => c.startsWith('lambda') || c.startsWith('sqs delete-message')));
  assert.match(r.stdout, /would replay: \{"version":"1.0"/);
  assert.match(r.stdout, /2 queued \(left in the queue, visible again\)/);
  assert.deepEqual(
    r.calls.filter((c) => c.startsWith('sqs change-message-visibility')).map((c) => c.split(' --receipt-handle ')[1]),
    ['handle-1 --visibility-timeout 0', 'handle-2 --visibility-timeout 0'],
  );
});

it('an invocation the CLI itself cannot make counts as still failing, without stopping the replay', () => {
  const r = run(['dev'], 'lambda invoke');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /0 replayed, 2 still failing/);
  assert.ok(!r.calls.some((c) => c.startsWith('sqs delete-message')));
});

it('without a stage it prints the usage and exits 2', () => {
  const r = run([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: .* <stage> \[--dry-run\]/);
});
