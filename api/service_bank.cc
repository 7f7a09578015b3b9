// Banks (一卡通): the payment file of an approved roll, with names and accounts from the vault,
// exported by a command (a POST, signed like every other) whose Memo entry records the export
// before the file is answered; and the bank's return file, every returned line recorded
// as a PaymentReturned in one submission. Layouts: bank_layout.h; return files: bank_return.h.
//
// Who: admin and maker (finance staff, who send the file to the bank and post its returns). The
// checker decides, the auditor never reads personal data, a charity has no roll: all three are
// refused both routes.
#include <boost/json.hpp>

#include "api/bank_layout.h"
#include "api/bank_return.h"
#include "api/service.h"
#include "crypto/sha256.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr uint32_t kBankRoles = kAdmin | kMaker;
constexpr uint64_t kBankFileLinesMax = kBatchLinesMax;

// The batch of `id`, approved: NotFound or Conflict (409) naming why not.
Result<const BatchState*> ApprovedBatch(const DomainState& s, const std::string& id) {
  auto it = s.batches.find(id);
  if (it == s.batches.end())
    return NotFound("no disbursement batch '" + id + "'").WithField("batch_id");
  if (it->second.status != BatchStatus::kApproved) {
    return Conflict("batch '" + id + "' is " + std::string(BatchStatusName(it->second.status)) +
                    "; only an approved batch is paid through the bank")
        .WithField("batch_id");
  }
  return &it->second;
}

// The file's lines without personal data (read inside the domain's read gate).
std::vector<BankPaymentLine> PaymentLines(const DomainState& s, const std::string& batch_id,
                                          const BatchState& b, std::vector<bool>* erased) {
  std::vector<BankPaymentLine> lines;
  lines.reserve(b.lines.size());
  for (const BatchLine& l : b.lines) {
    BankPaymentLine line;
    line.line_no = l.line_no;
    line.reference = BankReference(batch_id, l.line_no);
    line.beneficiary = std::string(s.names[l.beneficiary]);
    line.program = std::string(s.names[l.program]);
    line.period = l.period;
    line.amount_fen = l.amount_fen;
    auto person = s.beneficiaries.find(line.beneficiary);
    erased->push_back(person == s.beneficiaries.end() || person->second.erased);
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

void Service::AddBankRoutes() {
  AddPost("/v1/disbursement-batches/{batch_id}/bank-file-exports", kBankRoles,
          "Export the bank payment file (代发文件) of an approved roll, a command like any other: "
          "it appends a Memo entry (who, batch, layout, line counts, the file's SHA-256; no "
          "personal data) and answers the file itself (payee name and account from the vault, "
          "amount, reference). The body is empty. An erased person's line says so and has no "
          "account",
          fb::EventType::Memo,
          {{"layout", "the bank's column layout (data dir bank-layouts.json; default: default)"}},
          [](Service& s, Context& c) { return s.BankFile(c); });
  AddPost("/v1/disbursement-batches/{batch_id}/bank-returns", kBankRoles,
          "The bank's return file (回盘文件, CSV: reference or line, account, amount, status, "
          "reason): every returned line recorded in one submission, or every problem of every "
          "row reported; the same file again is recognised (already_recorded)",
          fb::EventType::PaymentReturned,
          {{"layout", "the layout the payment file was written in (its separator, amounts)"}},
          [](Service& s, Context& c) { return s.BankReturns(c); });
}

HttpResponse Service::BankFile(Context& c) {
  const std::string batch_id = c.params["batch_id"];
  Result<BankLayout> layout = FindBankLayout(options_.data_dir, Param(c.params, "layout"));
  if (!layout.ok()) return ErrorResponse(layout.status());
  if (!options_.read_only_reason.empty())  // an export not recorded is not served
    return ErrorResponse(Overloaded("the store is open read-only: " + options_.read_only_reason));
  std::vector<bool> erased;
  Result<std::vector<BankPaymentLine>> lines =
      ledger_.domain().Read([&](const DomainState& s) -> Result<std::vector<BankPaymentLine>> {
        FL_ASSIGN_OR_RETURN(const BatchState* b, ApprovedBatch(s, batch_id));
        return PaymentLines(s, batch_id, *b, &erased);
      });
  if (!lines.ok()) return ErrorResponse(lines.status());
  assert(lines->size() <= kBankFileLinesMax && erased.size() == lines->size());
  size_t erased_lines = 0;
  for (size_t i = 0; i < lines->size(); ++i) {
    if (erased[i]) {
      ++erased_lines;
      continue;
    }
    Result<PersonalData> person = ledger_.ReadPersonalData((*lines)[i].beneficiary);
    if (person.ok()) {
      (*lines)[i].person = std::move(*person);
    } else if (person.status().code() == StatusCode::kNotFound) {
      ++erased_lines;  // erased since the read above
    } else {
      return ErrorResponse(person.status());
    }
  }
  Result<std::string> file = RenderBankFile(*layout, *lines);
  if (!file.ok()) return ErrorResponse(file.status());
  const std::string sha256 = HashHex(Sha256::Digest(AsBytes(*file)));
  Result<Actor> actor = CommandActor(c);
  if (!actor.ok()) return ErrorResponse(actor.status());
  std::string text = "bank file exported: batch=" + batch_id + " layout=" + layout->name +
                     " lines=" + std::to_string(lines->size()) +
                     " erased=" + std::to_string(erased_lines) + " sha256=" + sha256;
  Result<AppendResult> recorded =
      ledger_.RecordMemo(*actor, c.request.idempotency_key, text, "bank-file:" + batch_id);
  if (!recorded.ok())
    return ErrorResponse(
        LocalizedStatus(recorded.status(), PreferredLanguage(c.request.accept_language)));
  HttpResponse r = TextResponse(recorded->replayed ? 200 : 201, std::move(*file),
                                layout->gbk ? "text/csv; charset=GBK" : "text/csv; charset=utf-8");
  r.cache_control = "no-store";  // personal data: never kept by a cache
  r.log_size = ledger_.log().size();
  return r;
}

HttpResponse Service::BankReturns(Context& c) {
  Language language = PreferredLanguage(c.request.accept_language);
  const std::string batch_id = c.params["batch_id"];
  Result<BankLayout> layout = FindBankLayout(options_.data_dir, Param(c.params, "layout"));
  if (!layout.ok()) return ErrorResponse(layout.status());
  if (!options_.read_only_reason.empty())
    return ErrorResponse(Overloaded("the store is open read-only: " + options_.read_only_reason));
  Status approved = ledger_.domain().Read(
      [&](const DomainState& s) { return ApprovedBatch(s, batch_id).status(); });
  if (!approved.ok()) return ErrorResponse(approved);
  Result<ParsedBankReturn> file = ParseBankReturn(c.request.body, *layout, batch_id);
  if (!file.ok()) return RollRejection({}, file.status(), 0, "", language);
  Result<std::optional<IdempotencyRecord>> used = CommittedKey(c);
  if (!used.ok()) return ErrorResponse(used.status());
  const Vault& vault = ledger_.vault();
  BankReturnResolution resolved = ledger_.domain().Read([&](const DomainState& s) {
    return ResolveBankReturn(
        s, batch_id, *file, [&](std::string_view account) { return vault.BankToken(account); },
        used->has_value());
  });
  if (!resolved.problems.empty() && *used) return KeyReusedAtRow(**used, resolved.problems.front());
  if (!resolved.problems.empty())
    return RejectRoll(resolved.problems, Status::Ok(), file->rows.size(), language);
  json::object fields{{"batch_id", batch_id},
                      {"rows", file->rows.size()},
                      {"paid_rows", resolved.paid_rows},
                      {"returned", resolved.returns.size()},
                      {"already_recorded", resolved.already_recorded},
                      {"encoding", file->encoding}};
  if (resolved.returns.empty()) {  // nothing to record: all paid, or recorded before
    HttpResponse r = JsonResponse(200, json::serialize(fields));
    r.log_size = ledger_.log().size();
    return r;
  }
  std::vector<DomainEvent> events;
  events.reserve(resolved.returns.size());
  for (fb::PaymentReturnedT& e : resolved.returns) events.emplace_back(std::move(e));
  Result<Actor> actor = CommandActor(c);
  if (!actor.ok()) return ErrorResponse(actor.status());
  Result<AppendResult> r = ledger_.Submit(*actor, c.request.idempotency_key, std::move(events));
  if (!r.ok()) return ErrorResponse(r.status());
  if (r->replayed) fields["already_recorded"] = true;  // by this very key: a retry
  return Committed(*r, std::move(fields));
}

}  // namespace fundledger
