import assert from 'node:assert/strict';
import {it} from 'node:test';
import {Status} from 'google-gax';
import {startEmulator} from '../emulator/index.ts';
import {CloudRun, clientOptions} from '../src/clients.ts';

it('sends a Locations call over the wire from a client built on demand, and closes with or without one', async (t) => {
  const emulator = await startEmulator();
  t.after(() => emulator.stop());
  const options = clientOptions(emulator.address);
  const unused = new CloudRun(options);
  const used = new CloudRun(options);
  await assert.rejects(used.jobs.getLocation({name: 'projects/p/locations/europe-west1'}), (err: {code?: number}) => {
    // The emulator serves Cloud Run and Logging only: the call reached it, and it said so.
    assert.equal(err.code, Status.UNIMPLEMENTED);
    return true;
  });
  await Promise.all([unused.close(), used.close()]);
});
