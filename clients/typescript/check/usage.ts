// A phone app's and a dashboard's use of the generated client: the types a client needs are
// there, typed (not `unknown`), with no type written by hand. Type-checked by
// tests/contract/test_typescript_client.py (tsc --strict --noEmit); never run.
import { createCheckinBatch, memberCompliance, presenceReport, monthlyBulletin, listAuditActions } from "../build/client";
import type {
  ActionOut,
  BatchItemResult,
  MonthlyBulletin,
  PresenceReportPage,
  PresenceRow,
  Problem,
  ProblemCode,
  ReadyOut,
  ReceiptOut,
  VillageTeamOut,
} from "../build/client";

// `true` only when T is `unknown` or `any`: what an untyped schema becomes.
type Untyped<T> = unknown extends T ? true : false;
const typed = <T>(_proof: Untyped<T> extends false ? true : never): void => undefined;

// Batch item errors are full problems with a code a client switches on.
typed<BatchItemResult["error"]>(true);
typed<Problem["errors"]>(true);
typed<Problem["request_id"]>(true);

function resendLater(results: BatchItemResult[]): string[] {
  const again: string[] = [];
  for (const result of results) {
    if (result.status !== "rejected" || result.error === null) continue;
    const problem: Problem = result.error;
    const code: ProblemCode = problem.code;
    switch (code) {
      case "internal_error":
      case "database_unavailable":
        if (result.client_id !== null) again.push(result.client_id);
        break;
      case "too_old":
      case "in_future":
      case "validation_error": {
        const fields: string[] = (problem.errors ?? []).map((e) => e.loc.join("."));
        console.warn(problem.status, problem.title, problem.detail, fields, problem.request_id);
        break;
      }
      default:
        break;
    }
    // @ts-expect-error a problem has no such member: the type is closed, not a free-form object
    void problem.no_such_member;
  }
  return again;
}

// A report page's rows are typed column by column.
typed<PresenceRow["status"]>(true);
typed<PresenceReportPage["items"][number]>(true);

function absentDays(page: PresenceReportPage): Array<[number, string]> {
  const rows: PresenceRow[] = page.items;
  const absent = rows.filter((row) => row.status === "absent" && row.workday);
  // @ts-expect-error `status` is one of the ledger's statuses, not any text
  const wrong: PresenceRow["status"] = "away";
  void wrong;
  const cursor: string | null = page.next_cursor;
  void cursor;
  return absent.map((row) => [row.member_id, row.date]);
}

function belowPace(bulletin: MonthlyBulletin): number {
  const rates = bulletin.divisions.map((d) => d.on_post_rate ?? 0);
  const needed = bulletin.below_pace.reduce((sum, m) => sum + m.needed_days, 0);
  return rates.length + needed;
}

// Receipts, action payloads, the dashboard's boundaries and /readyz have schemas too.
typed<ReceiptOut["query"]>(true);
typed<ActionOut["payload"]>(true);
typed<VillageTeamOut["boundary"]>(true);
typed<ReadyOut["status"]>(true);

function reportOf(receipt: ReceiptOut): "presence" | "compliance" | "monthly" | "surveys" {
  return receipt.query.report;
}

function outerRing(team: VillageTeamOut): number[][] {
  const b = team.boundary;
  return b.type === "Polygon" ? b.coordinates[0] : b.coordinates[0][0];
}

async function use(): Promise<void> {
  const batch = await createCheckinBatch({ body: { items: [] } });
  if (batch.data) resendLater(batch.data.results);
  // `me` where a member id goes, as presence takes it.
  const mine = await memberCompliance({ path: { member_id: "me" } });
  if (mine.data) console.log(mine.data.required_days);
  const page = await presenceReport({ query: { from: "2026-11-01", to: "2026-11-30", format: "json" } });
  if (page.data) absentDays(page.data);
  const bulletin = await monthlyBulletin({ query: { month: "2026-11", format: "json" } });
  if (bulletin.data) belowPace(bulletin.data);
  const actions = await listAuditActions();
  for (const entry of actions.data?.items ?? []) console.log(entry.action, entry.payload);
}

export { use, reportOf, outerRing };
