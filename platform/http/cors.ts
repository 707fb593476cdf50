import type uWS from '@trufflesuite/uws-js-unofficial';

/**
 * Answers a CORS preflight on a uWS route: 204 with the allowed methods and headers for an
 * allowed origin, 403 otherwise. Browsers send one before a cross-origin request that carries
 * `Authorization` (a ticket request from the web page), and without it the request never leaves.
 */
export function answerPreflight(res: uWS.HttpResponse, origin: string, allowed: boolean, methods: string): void {
  res.cork(() => {
    res.writeStatus(allowed ? '204 No Content' : '403 Forbidden');
    if (origin && allowed) {
      res.writeHeader('access-control-allow-origin', origin);
      res.writeHeader('vary', 'Origin');
    }
    res.writeHeader('access-control-allow-methods', methods);
    res.writeHeader('access-control-allow-headers', 'authorization, content-type');
    res.writeHeader('access-control-max-age', '600');
    res.endWithoutBody(0);
  });
}
