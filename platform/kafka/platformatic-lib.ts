import { createRequire } from 'node:module';
import type * as PlatformaticKafka from '@platformatic/kafka';

type Library = typeof PlatformaticKafka;

const require = createRequire(import.meta.url);
let library: Library | undefined;

/**
 * @platformatic/kafka, loaded when a bus first runs on it. Importing it compiles its option
 * schemas and costs about 20 times what importing kafkajs does (2 to 3.7 s against 0.1 s per
 * process on this loaded machine), which every service, tool and spec paid at start while
 * running on kafkajs. Node 20.19+ loads an ES module with require.
 */
export function platformatic(): Library {
  library ??= require('@platformatic/kafka') as Library;
  return library;
}
