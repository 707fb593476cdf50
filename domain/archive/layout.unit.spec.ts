import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  archiveGlob,
  archivedThrough,
  fileName,
  hourDir,
  hourOf,
  parseFileName,
  runsByHour,
  tempFilePartition,
  tempName,
} from './layout.ts';

const at = (iso: string): number => Date.parse(iso);

describe('archive layout', () => {
  it('names a file by its partition and offset range, in a Hive-style topic/hour folder', () => {
    assert.equal(hourOf(at('2026-12-07T14:59:59.999Z')), '2026-12-07T14');
    assert.equal(
      `${hourDir('/data/archive/', 'live.chat.messages', '2026-12-07T14')}/${fileName({ partition: 3, first: 100n, last: 199n })}`,
      '/data/archive/topic=live.chat.messages/hour=2026-12-07T14/3-100-199.parquet',
    );
    assert.equal(archiveGlob('s3://bucket/archive'), 's3://bucket/archive/topic=*/hour=*/*.parquet');
    assert.deepEqual(parseFileName('3-100-199.parquet'), { partition: 3, first: 100n, last: 199n });
    assert.equal(parseFileName(tempName('3-100-199.parquet')), undefined);
  });

  it('recognises left-over temporary files by partition', () => {
    assert.equal(tempFilePartition('.3-100-199.parquet.tmp'), 3);
    assert.equal(tempFilePartition('.3-100-199.parquet.tmp.json'), 3);
    assert.equal(tempFilePartition('3-100-199.parquet'), undefined);
  });

  it('cuts a partition where the hour changes, keeping offset order', () => {
    const r = (offset: number, iso: string) => ({ offset: String(offset), timestamp: at(iso) });
    const runs = runsByHour([
      r(1, '2026-12-07T13:59:00Z'),
      r(2, '2026-12-07T13:59:59Z'),
      r(3, '2026-12-07T14:00:00Z'),
      r(4, '2026-12-07T13:59:58Z'),
    ]);
    assert.deepEqual(
      runs.map((x) => [x.hour, x.records.map((y) => y.offset)]),
      [
        ['2026-12-07T13', ['1', '2']],
        ['2026-12-07T14', ['3']],
        ['2026-12-07T13', ['4']],
      ],
    );
  });

  it('reads how far each partition is archived from the file names', () => {
    const through = archivedThrough(['0-0-99.parquet', '0-100-149.parquet', '1-0-9.parquet', '.2-0-5.parquet.tmp']);
    assert.deepEqual(
      [...through],
      [
        [0, 149n],
        [1, 9n],
      ],
    );
  });
});
