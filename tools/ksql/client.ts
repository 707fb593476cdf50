import { createRequire } from 'node:module';
import type * as Ksqldb from 'ksqldb-client';

/**
 * ksqldb-client is CommonJS whose module.exports is the client class, while its typings declare
 * an ES default export (seen from an ES module as `.default.default`); this binds the runtime
 * value to the declared class.
 */
type ClientClass = (typeof Ksqldb.default)['default'];
export type KsqldbClient = InstanceType<ClientClass>;
export const KsqldbClient = createRequire(import.meta.url)('ksqldb-client') as ClientClass;
