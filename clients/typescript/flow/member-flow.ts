// A member's day through the generated client, against a running server: sign in, check in,
// send the same fix again (a phone that did not hear the answer), upload an offline queue in
// one batch, refresh the tokens (single-flight: two calls that meet an expired token share
// one refresh), read the presence ledger and ask for leave. Run by
// tests/contract/test_typescript_member_flow.py (`npm run flow`), which starts the server on
// loopback and checks what the server recorded; it prints one JSON line of what it saw.
import {
  createCheckin,
  createCheckinBatch,
  createLeaveRequest,
  getLeaveRequest,
  getMe,
  getMemberPresence,
  login,
  refreshTokens,
} from "../build/client";
import type { CheckInCreate, Problem, Token } from "../build/client";
import { client } from "../build/client/client.gen";

// Node's globals, declared here rather than pulling in @types/node for two names.
declare const process: { env: Record<string, string | undefined>; exitCode?: number };

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
};

// --- the session: bearer tokens and a single-flight refresh -----------------------------------
let tokens: Token | null = null;
let refreshing: Promise<void> | null = null;
let refreshes = 0;

client.setConfig({ baseUrl: env("ZHUCUN_URL"), auth: () => tokens?.access_token });

async function refresh(): Promise<void> {
  // Every caller that meets an expired token waits for the same refresh: a refresh token works
  // once, and presenting it twice ends the whole session (API.md, /auth/refresh).
  refreshing ??= (async () => {
    if (tokens === null) throw new Error("not signed in");
    const { data, error } = await refreshTokens({ body: { refresh_token: tokens.refresh_token } });
    if (error !== undefined) throw new Error(`refresh refused: ${error.code}`);
    tokens = data;
    refreshes += 1;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

type Answer<T> = { data?: T; error?: Problem | unknown; response: Response };

/** `call` with the session's token; once more after a refresh when the token has expired. */
async function signedIn<T>(call: () => Promise<Answer<T>>): Promise<T> {
  const sentWith = tokens?.access_token;
  let answer = await call();
  if (answer.response.status === 401 && (answer.error as Problem | undefined)?.code === "invalid_token") {
    // Refreshed meanwhile by another call (its refresh done before this answer came back):
    // the new token is already here. Otherwise refresh, or join the refresh under way.
    if (tokens?.access_token === sentWith) await refresh();
    answer = await call();
  }
  if (answer.data === undefined) {
    const problem = answer.error as Problem | undefined;
    throw new Error(`${answer.response.status} ${problem?.code ?? "no body"}: ${problem?.detail ?? ""}`);
  }
  return answer.data;
}

// --- a fix as the phone takes it (wx.getLocation({type: 'gcj02'}) gives GCJ-02) ---------------
const latitude = Number(env("ZHUCUN_LAT"));
const longitude = Number(env("ZHUCUN_LON"));

// Seconds apart, not minutes: the three must share the deployment's local day, which at
// 00:20 in Shanghai "half an hour ago" does not.
function fix(secondsAgo: number): CheckInCreate {
  return {
    client_id: crypto.randomUUID(), // made once, kept with the fix in the offline queue
    captured_at: new Date(Date.now() - secondsAgo * 1_000).toISOString(),
    latitude,
    longitude,
    coord_system: "wgs84",
    accuracy_m: 12,
  };
}

async function main(): Promise<void> {
  const seen: Record<string, unknown> = {};

  const signIn = await login({ body: { username: env("ZHUCUN_USER"), password: env("ZHUCUN_PASSWORD") } });
  if (signIn.data === undefined) throw new Error(`login refused: ${signIn.error?.code}`);
  tokens = signIn.data;
  const me = await signedIn(() => getMe());
  if (me.member_id === null) throw new Error("not a member");
  seen.member_id = me.member_id;

  // Check in, then send the same fix again: the same check-in answers, 200 instead of 201.
  const first = fix(30);
  const created = await createCheckin({ body: first });
  const again = await createCheckin({ body: first });
  seen.checkin = { status: created.response.status, id: created.data?.id };
  seen.resend = { status: again.response.status, id: again.data?.id };

  // The offline queue, uploaded at once: two new fixes and the first one a third time.
  const queue = [fix(20), fix(10), first];
  const batch = await signedIn(() => createCheckinBatch({ body: { items: queue } }));
  seen.batch = batch.results.map((r) => r.status);

  // The access token expires (here: forged) while two calls are in flight: one refresh.
  if (tokens === null) throw new Error("not signed in");
  tokens = { ...tokens, access_token: "expired.token.value" };
  const [a, b] = await Promise.all([signedIn(() => getMe()), signedIn(() => getMe())]);
  seen.refreshes = refreshes;
  seen.after_refresh = [a.username, b.username];

  // The member's ledger for today (the deployment's local date, as the server gave it).
  const today = created.data?.local_date ?? new Date().toISOString().slice(0, 10);
  const presence = await signedIn(() =>
    getMemberPresence({ path: { member_id: String(me.member_id) }, query: { from: today, to: today } }),
  );
  seen.presence = presence.days.map((d) => ({ date: d.date, counted_checkins: d.counted_checkins }));

  // Leave for two days next week.
  const start = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
  const end = new Date(Date.now() + 8 * 86_400_000).toISOString().slice(0, 10);
  const leave = await signedIn(() =>
    createLeaveRequest({ body: { type: "personal", start_date: start, end_date: end, reason: "家中有事" } }),
  );
  const read = await signedIn(() => getLeaveRequest({ path: { leave_id: leave.id } }));
  seen.leave = { id: read.id, status: read.status, start_date: read.start_date, end_date: read.end_date };

  console.log(JSON.stringify(seen));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
