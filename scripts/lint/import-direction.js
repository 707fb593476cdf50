// ESLint rule: imports flow one way, process folders -> domain -> platform -> schemas, and no
// process folder imports another (ARCHITECTURE.md). It resolves each relative import against the
// importing file, so a wrong import fails `npm run check` with the direction spelled out.
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PROCESS = new Set(['producers', 'processors', 'sinks', 'gateways', 'media', 'tools']);
/** What each layer may import besides itself. */
const BELOW = {
  domain: ['platform', 'schemas'],
  platform: ['schemas'],
  schemas: [],
  compose: ['platform', 'schemas'],
};
const DIRECTION =
  'imports flow one way: process folders (producers, processors, sinks, gateways, media, tools) -> domain -> platform -> schemas, and no process folder imports another; move what both need to domain/ (logic) or platform/ (adapters)';

/** 'processors/packager' for a file in a process's folder, 'media' for a file at a process folder's top. */
function unitOf(parts) {
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the direction of imports between the top-level folders' },
    schema: [],
    messages: { wrong: '{{from}} may not import {{to}}: {{direction}}' },
  },
  create(context) {
    const file = relative(ROOT, context.filename).split(sep);
    const top = file[0];
    const spec = /\.spec\.ts$/.test(context.filename);
    function allowed(target) {
      const t = target[0];
      if (t === top && !PROCESS.has(top)) return true;
      if (spec && t === 'tests') return true;
      if (PROCESS.has(top)) {
        if (t === top) {
          // Within one process folder: its own unit, or the files shared at the folder's top.
          return target.length === 2 || unitOf(target) === unitOf(file);
        }
        return ['domain', 'platform', 'schemas'].includes(t);
      }
      return (BELOW[top] ?? null) === null || BELOW[top].includes(t);
    }
    function check(node) {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), source)).split(sep);
      if (target[0] === '..' || allowed(target)) return;
      context.report({
        node: node.source,
        messageId: 'wrong',
        data: { from: file.slice(0, -1).join('/') || top, to: target.slice(0, -1).join('/'), direction: DIRECTION },
      });
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};
