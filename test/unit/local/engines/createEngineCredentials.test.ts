import { createEngineCredentials } from '#local/engines/createEngineCredentials';
import { ACCESS_KEY_ID_PATTERN } from '#local/engines/loopbackFront';

describe('createEngineCredentials', () => {
  it('makes an access key id of SFLOCAL and 32 base32 characters that the fronts accept', () => {
    // WHEN
    const { accessKeyId } = createEngineCredentials();

    // THEN
    expect(accessKeyId).toMatch(/^SFLOCAL[A-Z2-7]{32}$/);
    expect(accessKeyId).toMatch(ACCESS_KEY_ID_PATTERN);
  });

  it('makes a secret access key of 40 base64url characters', () => {
    // WHEN
    const { secretAccessKey } = createEngineCredentials();

    // THEN
    expect(secretAccessKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
  });

  it('makes new credentials every time, using every base32 character', () => {
    // WHEN
    const made = Array.from({ length: 200 }, () => createEngineCredentials());

    // THEN no two runs share a key id or a secret, and the random part covers the whole alphabet
    expect(new Set(made.map((credentials) => credentials.accessKeyId)).size).toBe(200);
    expect(new Set(made.map((credentials) => credentials.secretAccessKey)).size).toBe(200);
    const characters = new Set(
      made.flatMap((credentials) => [...credentials.accessKeyId.slice(7)]),
    );
    expect([...characters].sort().join('')).toBe('234567ABCDEFGHIJKLMNOPQRSTUVWXYZ');
  });
});
