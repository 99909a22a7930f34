// Talks DPoP to a running jwtauth reference server with panva's npm
// package "dpop" (an implementation independent of this repository) and
// node's fetch. argv[2] is JSON {base, alg, username, password}. With a
// fresh key pair it logs in with a proof, calls GET /auth/me with
// "Authorization: DPoP" and a proof carrying ath, refreshes with a proof
// (rotation on), calls /auth/me and /auth/sessions with the new access
// token and refreshes again with the new refresh token. A
// use_dpop_nonce answer is retried once with the server's DPoP-Nonce, as
// RFC 9449 §8 says. Output on stdout: {jkt, steps}, the package's own
// thumbprint of the key and an array of {step, status, token_type, error,
// nonce_retry, dpop_jkt}.
import * as DPoP from 'dpop';

const { base, alg, username, password } = JSON.parse(process.argv[2]);
const keypair = await DPoP.generateKeyPair(alg);
const steps = [];
let nonce;

async function send(step, method, path, { body, token } = {}) {
  const url = base + path;
  let retried = false;
  for (;;) {
    const proof = await DPoP.generateProof(keypair, url, method, nonce, token);
    const headers = { DPoP: proof, 'User-Agent': 'npm-dpop-interop/1.0' };
    if (token) headers.Authorization = 'DPoP ' + token;
    if (body) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body && JSON.stringify(body) });
    const json = await res.json();
    if (res.headers.get('dpop-nonce')) nonce = res.headers.get('dpop-nonce');
    if (!retried && json.error === 'use_dpop_nonce') {
      retried = true;
      continue;
    }
    steps.push({ step, status: res.status, token_type: json.token_type, error: json.error, nonce_retry: retried,
      dpop_jkt: Array.isArray(json) ? json.map((s) => s.dpop_jkt) : undefined });
    return json;
  }
}

const login = await send('login', 'POST', '/auth/login', { body: { username, password } });
await send('me', 'GET', '/auth/me', { token: login.access_token });
const refreshed = await send('refresh', 'POST', '/auth/refresh', { body: { refresh_token: login.refresh_token } });
await send('me after refresh', 'GET', '/auth/me', { token: refreshed.access_token });
await send('sessions', 'GET', '/auth/sessions', { token: refreshed.access_token });
await send('refresh again', 'POST', '/auth/refresh', { body: { refresh_token: refreshed.refresh_token } });
const jkt = await DPoP.calculateThumbprint(keypair.publicKey);
// Exit at once: fetch's idle keep-alive sockets would hold node for seconds.
process.stdout.write(JSON.stringify({ jkt, steps }), () => process.exit(0));
