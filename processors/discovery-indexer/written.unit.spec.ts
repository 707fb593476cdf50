import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyDocument } from '../../domain/discovery/document.ts';
import { WrittenDocuments } from './written.ts';

describe('documents remembered as written', () => {
  it('keeps the most recently written, at most max', () => {
    const written = new WrittenDocuments(2);
    written.set('a', emptyDocument('a'));
    written.set('b', emptyDocument('b'));
    written.set('a', { ...emptyDocument('a'), viewer_count: 3, viewers_offset: 0 });
    written.set('c', emptyDocument('c'));
    assert.equal(written.size, 2);
    assert.equal(written.get('b'), undefined, 'b was written least recently');
    assert.equal(written.get('a')?.viewer_count, 3);
    assert.ok(written.get('c'));
  });

  it('remembers nothing with max 0', () => {
    const written = new WrittenDocuments(0);
    written.set('a', emptyDocument('a'));
    assert.equal(written.get('a'), undefined);
  });

  it('keeps the newer of two documents of a stream, whichever is written last', () => {
    const written = new WrittenDocuments(2);
    const older = { ...emptyDocument('a'), lifecycle_offset: 3 };
    const newer = { ...older, lifecycle_offset: 5 };
    written.set('a', newer);
    written.set('a', older);
    assert.equal(written.get('a'), newer);
  });

  it('knows every document only from empty, and until it forgets one', () => {
    const written = new WrittenDocuments(2);
    written.set('a', emptyDocument('a'));
    written.markComplete();
    assert.equal(written.complete, false, 'not empty when marked');
    written.clear();
    written.markComplete();
    written.set('a', emptyDocument('a'));
    written.set('b', emptyDocument('b'));
    assert.equal(written.complete, true);
    written.set('c', emptyDocument('c'));
    assert.equal(written.complete, false, 'one was evicted');
    written.clear();
    written.markComplete();
    written.incomplete();
    assert.equal(written.complete, false, 'a write may have landed unrecorded');
  });
});
