import { type AccountDatabase, parseAccountDatabase } from '#local/io/privateGroup';

/** The current user's ids: files the tests make get this owner and group. */
function currentUser(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

function parsed(passwd: string, group: string): AccountDatabase {
  const database = parseAccountDatabase(passwd, group);
  if (database === undefined) throw new Error('test account database does not parse');
  return database;
}

/**
 * An account database (as /etc/passwd and /etc/group would give it) in which the current user's primary
 * group is user-private: named `me`, nobody else's primary group, no members listed.
 */
export function userPrivateGroupAccounts(): AccountDatabase {
  const { uid, gid } = currentUser();
  return parsed(`me:x:${uid}:${gid}:Me:/home/me:/bin/sh\n`, `me:x:${gid}:\n`);
}

/**
 * An account database in which the current user's primary group, `users`, is shared: it is also the
 * primary group of another account, `bob` (umask 002 with a shared primary group).
 */
export function sharedGroupAccounts(): AccountDatabase {
  const { uid, gid } = currentUser();
  return parsed(
    `me:x:${uid}:${gid}:Me:/home/me:/bin/sh\nbob:x:${uid + 1}:${gid}:Bob:/home/bob:/bin/sh\n`,
    `users:x:${gid}:\n`,
  );
}
