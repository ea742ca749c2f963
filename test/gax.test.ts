import assert from 'node:assert/strict';
import {once} from 'node:events';
import {setTimeout as sleep} from 'node:timers/promises';
import {it} from 'node:test';
import {LoggingServiceV2Client} from '@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js';
import {Status} from 'google-gax';
import {startEmulator} from '../emulator/index.ts';
import {CloudRun, clientOptions} from '../src/clients.ts';
import {Undecoded, loggingGax} from '../src/gax.ts';
import {startTestEmulator} from './support/emulated.ts';

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

it('hands over each Logging tail response as its bytes, which decode to the entries sent', async (t) => {
  const emulator = await startTestEmulator();
  const options = clientOptions(emulator.address);
  const cloudRun = new CloudRun(options);
  const logging = new LoggingServiceV2Client(options, loggingGax);
  t.after(async () => {
    await Promise.all([cloudRun.close(), logging.close()]);
    await emulator.stop();
  });
  const parent = 'projects/gax-project/locations/europe-west1';
  const containers = [{image: 'x:1', command: ['node', '-e', 'console.log("hello")']}];
  await cloudRun.jobs.createJob({parent, jobId: 'tailed', job: {template: {template: {containers}}}});
  const stream = logging.tailLogEntries();
  const responses: unknown[] = [];
  stream.on('data', (response: unknown) => responses.push(response));
  stream.write({resourceNames: ['projects/gax-project'], filter: 'resource.labels.job_name="tailed"'});
  while (emulator.callsTo('TailLogEntries').length === 0) await sleep(10);
  const [operation] = await cloudRun.jobs.runJob({name: `${parent}/jobs/tailed`});
  await operation.promise();
  const texts = () =>
    responses.flatMap((r) => (r instanceof Undecoded ? r.decode().entries.map((e: {textPayload?: string}) => e.textPayload) : ['not bytes']));
  for (let i = 0; i < 200 && !texts().includes('Container called exit(0).'); i++) await sleep(50);
  stream.end();
  await once(stream, 'end');
  assert.deepEqual(texts(), ['hello', 'Container called exit(0).']);
});
