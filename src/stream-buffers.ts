import {setDefaultHighWaterMark} from 'node:stream';

// An object-mode stream buffers 16 objects by default. The Logging tail's objects are responses of
// up to 1,000 entries, about 600 KB, and a tail paused for a slow workflow log reader filled two
// such streams, google-gax's and grpc-js's, with 32 of them: one each keeps the tail flowing.
setDefaultHighWaterMark(true, 1);
