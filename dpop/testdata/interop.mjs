// Makes DPoP proofs with panva's npm package "dpop", an implementation
// independent of this repository. Input (argv[2]): a JSON array of
// {alg, htm, htu, token, nonce}; output: a JSON array of {proof, jwk, jkt},
// with a fresh key pair per case, its public JWK and the package's own
// RFC 7638 thumbprint of it.
import * as DPoP from 'dpop';

const cases = JSON.parse(process.argv[2]);
const out = [];
for (const c of cases) {
  const keypair = await DPoP.generateKeyPair(c.alg);
  const proof = await DPoP.generateProof(keypair, c.htu, c.htm, c.nonce || undefined, c.token || undefined);
  const jwk = await crypto.subtle.exportKey('jwk', keypair.publicKey);
  const jkt = await DPoP.calculateThumbprint(keypair.publicKey);
  out.push({ proof, jwk, jkt });
}
process.stdout.write(JSON.stringify(out));
