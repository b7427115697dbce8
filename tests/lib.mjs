// Test protocol shared by the Node end-to-end tests: every check prints
// "ok - NAME" or "not ok - NAME: why"; tests/run.sh counts the lines.
let failures = 0;

export function check(name, cond, why = '') {
  if (cond) console.log(`ok - ${name}`);
  else {
    failures++;
    console.log(`not ok - ${name}: ${why}`);
  }
  return cond;
}

export function done() {
  process.exitCode = failures ? 1 : 0;
}
