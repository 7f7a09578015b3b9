// An independent check of a cosigned checkpoint, written from the C2SP specifications alone
// (signed-note, tlog-checkpoint, tlog-cosignature) on Node's own Ed25519: nothing of
// fundledger's C++ is used. Usage:
//   node verify_cosigned_note.mjs NOTE_FILE LOG_VKEY WITNESS_VKEY...
// Exits 0 when the log's signature and a cosignature/v1 by every witness key verify, printing
// "ok <size> <witness names>"; otherwise 1 with the reason.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function fail(why) {
  console.log(`FAIL ${why}`);
  process.exit(1);
}

// "<name>+<hex key id>+<base64(type || public key)>" (signed-note verifier key).
function parseVkey(vkey) {
  // Split at the first two '+' only: the base64 key may hold more.
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  const name = vkey.substring(0, first);
  const hexId = vkey.substring(first + 1, second);
  const b64 = vkey.substring(second + 1);
  const raw = Buffer.from(b64, 'base64');
  const type = raw[0];
  const publicKey = raw.subarray(1);
  if (publicKey.length !== 32) fail(`key ${vkey}: not an Ed25519 key`);
  const id = createHash('sha256')
    .update(Buffer.concat([Buffer.from(name + '\n'), Buffer.from([type]), publicKey]))
    .digest()
    .subarray(0, 4);
  if (id.toString('hex') !== hexId) fail(`key ${vkey}: key id does not match`);
  const key = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return { name, id, type, key };
}

// The note's text (up to and including the blank line's preceding newline) and its signature
// lines: "— <name> <base64(key id || signature)>".
function parseNote(note) {
  const split = note.indexOf('\n\n');
  if (split < 0) fail('no blank line between text and signatures');
  const text = note.substring(0, split + 1);
  const lines = note.substring(split + 2).split('\n').filter((l) => l !== '');
  const signatures = lines.map((l) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(l);
    if (!m) fail(`signature line '${l}' is malformed`);
    return { name: m[1], blob: Buffer.from(m[2], 'base64') };
  });
  return { text, signatures };
}

const [noteFile, logVkey, ...witnessVkeys] = process.argv.slice(2);
const note = readFileSync(noteFile, 'utf8');
const { text, signatures } = parseNote(note);
const size = text.split('\n')[1];

const log = parseVkey(logVkey);
if (log.type !== 0x01) fail('the log key is not an Ed25519 (0x01) key');
const logSigned = signatures.some(
  (s) => s.name === log.name && s.blob.subarray(0, 4).equals(log.id) &&
    verify(null, Buffer.from(text), log.key, s.blob.subarray(4)));
if (!logSigned) fail(`no valid signature by the log ${log.name}`);

const names = [];
for (const vkey of witnessVkeys) {
  const w = parseVkey(vkey);
  if (w.type !== 0x04) fail(`witness key ${w.name} is not a cosignature/v1 (0x04) key`);
  const ok = signatures.some((s) => {
    if (s.name !== w.name || s.blob.length !== 4 + 8 + 64 || !s.blob.subarray(0, 4).equals(w.id)) {
      return false;
    }
    const timestamp = s.blob.readBigUInt64BE(4);
    const message = Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`);
    return verify(null, message, w.key, s.blob.subarray(12));
  });
  if (!ok) fail(`no valid cosignature by the witness ${w.name}`);
  names.push(w.name);
}
console.log(`ok ${size} ${names.join(' ')}`);
