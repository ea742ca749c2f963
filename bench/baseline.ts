import {v2 as run} from '@google-cloud/run';
import {grpc} from 'google-gax';

/**
 * The baseline: what users write by hand with the official client, run the job and await
 * its operation's promise, whose default backoff grows to 60 s between polls.
 * Usage: node bench/baseline.ts HOST:PORT projects/P/locations/R/jobs/J
 */
const [address, name] = process.argv.slice(2);
const [host, port] = address.split(':');
const client = new run.JobsClient({
  apiEndpoint: host,
  port: Number(port),
  sslCreds: grpc.credentials.createInsecure(),
  universeDomain: 'googleapis.com',
});
const [operation] = await client.runJob({name});
const [execution] = await operation.promise();
console.log(execution.name);
await client.close();
