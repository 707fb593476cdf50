import { connect } from 'node:net';

/**
 * A pass of every HTTP method, real and made up, over a server's routes, written on raw sockets
 * (fetch refuses TRACE and CONNECT and normalises the method's case), each with and without a
 * body. A finding is a 5xx, a request left unanswered, or a method the route does not take that
 * is answered 2xx or 3xx (bad input accepted). The server must still answer a plain GET after.
 */
export interface FuzzRoute {
  path: string;
  /** Methods the route takes; any other must be refused (4xx or a closed connection). */
  allowed: readonly string[];
}

export interface MethodFinding {
  method: string;
  path: string;
  answer: string;
}

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'MKCOL',
  'LOCK',
  'PURGE',
  'SEARCH',
  'QUERY',
  'get',
  'Post',
  'BREW',
  'X'.repeat(300),
];

/**
 * Not methods but broken request lines: a server may answer 400, close, or wait for the rest of a
 * request until its idle timeout (uWS and nginx do), so silence is no finding here; acceptance is.
 */
const MALFORMED = ['GE T', 'G\u00c9T', ''];

/** Sends one request; resolves with its status code, 'closed' (no status line), or 'timeout'. */
function send(host: string, port: number, raw: Buffer, timeoutMs: number): Promise<number | 'closed' | 'timeout'> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let got = Buffer.alloc(0);
    const finish = (v: number | 'closed' | 'timeout') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const line = /^HTTP\/1\.[01] (\d{3})/.exec(got.toString('latin1'));
      if (line) finish(Number(line[1]));
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.write(raw);
  });
}

function request(method: string, path: string, host: string, body: string | undefined): Buffer {
  const head = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, 'Origin: https://evil.example', 'Connection: close'];
  if (body !== undefined) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`, 'latin1');
}

export async function fuzzMethods(
  target: { host: string; port: number },
  routes: readonly FuzzRoute[],
  o: { timeoutMs?: number; hostHeader?: string } = {},
): Promise<{ findings: MethodFinding[]; requests: number; statuses: Record<string, number> }> {
  const findings: MethodFinding[] = [];
  const statuses: Record<string, number> = {};
  const hostHeader = o.hostHeader ?? `${target.host}:${target.port}`;
  const cases = routes.flatMap((route) =>
    [...METHODS, ...MALFORMED].flatMap((method) =>
      [undefined, '{"title":"x","category":"y"}'].map((body) => ({ route, method, body })),
    ),
  );
  const one = async ({ route, method, body }: (typeof cases)[number]) => {
    const malformed = MALFORMED.includes(method);
    const answer = await send(
      target.host,
      target.port,
      request(method, route.path, hostHeader, body),
      malformed ? 1500 : (o.timeoutMs ?? 5000),
    );
    statuses[String(answer)] = (statuses[String(answer)] ?? 0) + 1;
    const accepted = typeof answer === 'number' && answer < 400;
    const bad =
      (answer === 'timeout' && !malformed) ||
      (typeof answer === 'number' && answer >= 500) ||
      (accepted && (malformed || !route.allowed.includes(method)));
    if (bad) findings.push({ method: method.slice(0, 20), path: route.path, answer: String(answer) });
  };
  // A few at a time: enough to finish quickly, few enough not to trip per-address limits.
  for (let i = 0; i < cases.length; i += 8) await Promise.all(cases.slice(i, i + 8).map(one));
  return { findings, requests: cases.length, statuses };
}

/** Status of a plain GET, to show the server is still there after the pass. */
export function plainGet(
  target: { host: string; port: number },
  path: string,
  hostHeader?: string,
): Promise<number | 'closed' | 'timeout'> {
  return send(
    target.host,
    target.port,
    request('GET', path, hostHeader ?? `${target.host}:${target.port}`, undefined),
    5000,
  );
}
