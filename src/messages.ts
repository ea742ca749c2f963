import {protobuf} from 'google-gax';
import runProtos from '@google-cloud/run/build/protos/protos.json' with {type: 'json'};

let root: protobuf.Root | undefined;

/**
 * runMessage is a Cloud Run message type, built on first use from the JSON descriptors the
 * clients load anyway: the package's generated static module would add 1.2 MB to parse at
 * every start for the two types the action encodes itself.
 */
export function runMessage(name: 'Job'): protobuf.Type {
  root ??= protobuf.Root.fromJSON(runProtos as protobuf.INamespace);
  return root.lookupType(`google.cloud.run.v2.${name}`);
}
