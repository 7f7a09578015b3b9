#include <boost/json.hpp>

#include "api/event_json.h"
#include "api/request_fields.h"
#include "api/roll_parser.h"
#include "api/roll_resolver.h"
#include "api/service.h"
#include "crypto/sha256.h"

namespace fundledger {
namespace json = boost::json;
namespace {

// Every fund id an event names, for charity scoping.
std::vector<std::string> FundsOf(const DomainEvent& e) {
  return std::visit(
      [](const auto& ev) -> std::vector<std::string> {
        using T = std::decay_t<decltype(ev)>;
        std::vector<std::string> out;
        if constexpr (requires { ev.fund_id; }) out.push_back(ev.fund_id);
        if constexpr (requires { ev.from_fund_id; }) out.push_back(ev.from_fund_id);
        if constexpr (requires { ev.to_fund_id; }) out.push_back(ev.to_fund_id);
        (void)sizeof(T);
        return out;
      },
      e);
}

// Only spaces, tabs and ideographic spaces (U+3000), or nothing.
bool IsBlank(std::string_view text) {
  while (!text.empty()) {
    if (text.front() == ' ' || text.front() == '\t') {
      text.remove_prefix(1);
    } else if (text.starts_with("\u3000")) {
      text.remove_prefix(std::string_view("\u3000").size());
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

// Fundledger-Signature: "<key id>:<base64 signature>" over the request's method, target (path
// and query, as sent) and body digest; the domain checks it against the actor's keys like any
// signature.
Result<Actor> Service::CommandActor(const Context& c) const {
  Actor actor{c.who.actor, c.who.role};
  const std::string& header = c.request.signature;
  if (header.empty()) return actor;
  size_t colon = header.find(':');
  Result<Bytes> sig = colon == std::string::npos ? Result<Bytes>(InvalidArgument("no ':'"))
                                                 : Base64Decode(header.substr(colon + 1));
  if (colon != kKeyIdHexChars || !sig.ok() || sig->size() != kEd25519SignatureBytes)
    return InvalidArgument(std::string(kSignatureHeader) +
                           " must be '<16 hex digit key id>:<base64 of the 64-byte signature>'")
        .WithField(std::string(kSignatureHeader));
  EntrySignature s;
  s.key_id = header.substr(0, colon);
  std::copy(sig->begin(), sig->end(), s.signature.begin());
  s.request = c.request.method + " " + c.request.target;  // a roll's query names its batch
  s.body_sha256 = Sha256::Digest(AsBytes(c.request.body));
  actor.request_signature = std::move(s);
  return actor;
}

HttpResponse Service::Submit(Context& c, std::vector<DomainEvent> events,
                             std::vector<VaultWrite> vault) {
  for (const DomainEvent& e : events) {
    Status scope = CheckCharityScope(c.who, e);
    if (!scope.ok()) return ErrorResponse(scope);
  }
  Result<Actor> actor = CommandActor(c);
  if (!actor.ok()) return ErrorResponse(actor.status());
  Result<AppendResult> r =
      ledger_.Submit(*actor, c.request.idempotency_key, std::move(events), std::move(vault));
  if (!r.ok())
    return ErrorResponse(LocalizedStatus(r.status(), PreferredLanguage(c.request.accept_language)));
  return Committed(*r);
}

Status Service::CheckFundScope(const Principal& who, const std::string& fund) const {
  if (who.role != fb::Role::charity) return Status::Ok();
  std::string org = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.funds.find(fund);
    return it == s.funds.end() ? std::string() : it->second.organisation;
  });
  if (org != who.org) {
    return Status(StatusCode::kPermissionDenied,
                  "fund '" + fund + "' does not belong to organisation '" + who.org + "'");
  }
  return Status::Ok();
}

Status Service::CheckCharityScope(const Principal& who, const DomainEvent& event) const {
  for (const std::string& fund : FundsOf(event)) FL_RETURN_IF_ERROR(CheckFundScope(who, fund));
  return Status::Ok();
}

HttpResponse Service::Committed(const AppendResult& r, json::object fields) const {
  const uint64_t log_size = ledger_.log().size();  // after the commit: what a read now reflects
  fields["first_index"] = r.first_index;
  fields["count"] = r.count;
  fields["replayed"] = r.replayed;
  fields["log_size"] = log_size;
  HttpResponse response = JsonResponse(r.replayed ? 200 : 201, json::serialize(fields));
  response.log_size = log_size;
  return response;
}

HttpResponse Service::Command(Context& c, fb::EventType type) {
  std::string body = c.request.body;
  if (!c.params.empty()) {
    // Path parameters name fields of the event ("/v1/funds/{fund_id}/close").
    Result<JsonFields> fields = JsonFields::Parse(body);
    if (!fields.ok()) return ErrorResponse(fields.status());
    for (const auto& [name, value] : c.params) {  // only path parameters: AddQuery
      if (fields->object().contains(name)) {
        return ErrorResponse(InvalidArgument("'" + name +
                                             "' is given both in the path and in the body; "
                                             "give it once, in the path")
                                 .WithField(name));
      }
      fields->object()[name] = value;
    }
    body = json::serialize(fields->object());
  }
  Result<DomainEvent> event = EventFromJson(type, body);
  if (!event.ok()) return ErrorResponse(event.status());
  return Submit(c, {std::move(event).value()});
}

// The person's data goes to the vault; the entry gets only commitments, computed by the ledger.
HttpResponse Service::RegisterBeneficiary(Context& c) {
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->Has("person")) {
    return ErrorResponse(
        InvalidArgument("person {name, id_number, bank_account, phone} is required")
            .WithField("person"));
  }
  Result<JsonFields> p = body->Object("person");
  if (!p.ok()) return ErrorResponse(p.status());
  PersonalData person;
  for (auto [field, name] : {std::pair{&person.name, "name"},
                             {&person.id_number, "id_number"},
                             {&person.bank_account, "bank_account"},
                             {&person.phone, "phone"}}) {
    Result<std::string> value = p->String(name);
    if (!value.ok()) return ErrorResponse(value.status());
    *field = std::move(*value);
  }
  json::object& o = body->object();
  o.erase("person");
  o["id_commitment"] = json::array(32, 0);  // placeholders satisfy the field checks
  Result<DomainEvent> event =
      EventFromJson(fb::EventType::BeneficiaryRegistered, json::serialize(o));
  if (!event.ok()) return ErrorResponse(event.status());
  const std::string& beneficiary = std::get<fb::BeneficiaryRegisteredT>(*event).beneficiary_id;
  Result<std::optional<IdempotencyRecord>> used = CommittedKey(c);
  if (!used.ok()) return ErrorResponse(used.status());
  if (*used) {  // the ID number is registered now, by this very request if it is a retry
    Result<PersonalData> held = ledger_.ReadPersonalData(beneficiary);
    bool same = (*used)->count == 1 && held.ok() && held->name == person.name &&
                held->id_number == person.id_number && held->bank_account == person.bank_account &&
                held->phone == person.phone;
    if (!same) return KeyReused(**used, "another person or other personal data");
    return Committed(AppendResult{(*used)->first_index, (*used)->count, true});
  }
  Result<Actor> actor = CommandActor(c);
  if (!actor.ok()) return ErrorResponse(actor.status());
  Result<AppendResult> r = ledger_.RegisterBeneficiary(
      *actor, c.request.idempotency_key, std::get<fb::BeneficiaryRegisteredT>(*event), person);
  if (!r.ok()) return ErrorResponse(r.status());
  return Committed(*r);
}

HttpResponse Service::PrepareRoll(Context& c) {
  Language language = PreferredLanguage(c.request.accept_language);
  RollTarget target{Param(c.params, "batch_id"), Param(c.params, "fund_id"),
                    Param(c.params, "bucket", std::string(kGeneralBucket)), 0};
  if (!target.batch_id.empty() && !IsValidId(target.batch_id))
    return ErrorResponse(InvalidArgument("batch_id is malformed").WithField("batch_id"));
  if (!IsValidId(target.fund))
    return ErrorResponse(
        InvalidArgument("query parameter fund_id is required").WithField("fund_id"));
  Result<int32_t> period = ParseRollPeriod(Param(c.params, "period"));
  if (!period.ok()) return ErrorResponse(Status(period.status()).WithField("period"));
  target.period = *period;
  Status scope = CheckFundScope(c.who, target.fund);
  if (!scope.ok()) return ErrorResponse(scope);
  if (!options_.read_only_reason.empty())
    return ErrorResponse(Status(StatusCode::kOverloaded,
                                "the store is open read-only: " + options_.read_only_reason));
  if (target.batch_id.empty()) {  // the same file for the same fund and month: the same batch
    std::string seed =
        target.fund + "\n" + target.bucket + "\n" + std::to_string(*period) + "\n" + c.request.body;
    target.batch_id =
        "R" + std::to_string(*period) + "-" + HashHex(Sha256::Digest(AsBytes(seed))).substr(0, 12);
  }
  Result<ParsedRoll> parsed =
      ParseRoll(c.request.body, DetectRollFormat(c.request.content_type, c.request.body), *period);
  if (!parsed.ok()) return RollRejection({}, parsed.status(), 0, "", language);
  size_t rows = parsed->rows.size();
  const Amount parsed_total = parsed->total;
  std::vector<std::string> ignored = std::move(parsed->ignored_columns);
  RollIdentities identities = LedgerIdentities(ledger_);
  ResolvedRoll roll = ledger_.domain().Read(
      [&](const DomainState& s) { return ResolveRoll(s, target, identities, std::move(*parsed)); });
  Result<std::optional<IdempotencyRecord>> used = CommittedKey(c);
  if (!used.ok()) return ErrorResponse(used.status());
  auto roll_fields = [&](size_t lines, Amount total) {
    json::array ignored_json;
    for (const std::string& col : ignored) ignored_json.emplace_back(col);
    return json::object{{"batch_id", target.batch_id},
                        {"lines", lines},
                        {"total_fen", total.fen()},
                        {"total", total.ToYuan()},
                        {"ignored_columns", std::move(ignored_json)}};
  };
  if (!roll.problems.empty() || !roll.roll_problem.ok()) {
    // A committed roll's people may be paid, erased or unknown here since: a retry is judged
    // only by the key (the ledger compares what it would append), never by today's rules.
    if (*used && !roll.problems.empty()) {
      // Rows that no longer resolve (a person erased since) cannot be compared line by line;
      // the batch the key prepared still says whether this is the same roll.
      std::optional<AppendResult> replay = RollPreparedBy(**used, target, rows, parsed_total);
      if (!replay) return KeyReusedAtRow(**used, roll.problems.front());
      Result<Actor> actor = CommandActor(c);  // a retry is signed as the first request was
      if (!actor.ok()) return ErrorResponse(actor.status());
      return Committed(*replay, roll_fields(rows, parsed_total));
    }
    if (!*used) return RejectRoll(roll.problems, roll.roll_problem, rows, language);
  }
  Result<Actor> actor = CommandActor(c);
  if (!actor.ok()) return ErrorResponse(actor.status());
  Result<AppendResult> r =
      ledger_.PrepareBatch(*actor, c.request.idempotency_key, target.batch_id, target.fund,
                           target.bucket, *period, Param(c.params, "document"), roll.lines);
  if (!r.ok()) {
    std::vector<Status> problems = r.status().details();
    return RejectRoll(problems, problems.empty() ? r.status() : Status::Ok(), rows, language);
  }
  return Committed(*r, roll_fields(roll.lines.size(), roll.total));
}

std::optional<AppendResult> Service::RollPreparedBy(const IdempotencyRecord& record,
                                                    const RollTarget& target, size_t rows,
                                                    Amount total) const {
  // The batch the key's entries began, for the same fund, bucket and month, with as many lines
  // and the same total. A batch id made from the file (no batch_id given) also names its bytes.
  const bool same = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.batches.find(target.batch_id);
    if (it == s.batches.end()) return false;
    const BatchState& b = it->second;
    return b.prepared_index == record.first_index && b.fund == target.fund &&
           b.bucket == target.bucket && b.period == target.period && b.lines.size() == rows &&
           b.total_fen == total.fen();
  });
  if (!same) return std::nullopt;
  return AppendResult{record.first_index, record.count, /*replayed=*/true};
}

Result<std::optional<IdempotencyRecord>> Service::CommittedKey(const Context& c) const {
  if (c.request.idempotency_key.empty()) return std::optional<IdempotencyRecord>();
  return ledger_.log().FindIdempotencyRecord(c.request.idempotency_key);
}

HttpResponse Service::KeyReused(const IdempotencyRecord& record, const std::string& why) {
  return ErrorResponse(Conflict("the Idempotency-Key was already used for a different request "
                                "(" +
                                std::to_string(record.count) + " entries from index " +
                                std::to_string(record.first_index) + "); this one differs: " + why)
                           .WithField("idempotency_key"));
}

HttpResponse Service::KeyReusedAtRow(const IdempotencyRecord& record, const Status& row_problem) {
  return KeyReused(record, "its row " + std::to_string(row_problem.line()) +
                               " does not resolve: " + row_problem.message());
}

HttpResponse Service::RejectRoll(const std::vector<Status>& problems, const Status& roll_problem,
                                 size_t rows, Language language) {
  std::string report_id = problems.empty() ? std::string() : roll_reports_.Add(problems, language);
  return RollRejection(problems, roll_problem, rows, report_id, language);
}

HttpResponse Service::RollReport(Context& c) {
  std::optional<RollReportStore::Report> report = roll_reports_.Find(c.params["report_id"]);
  if (!report) {
    return ErrorResponse(NotFound("no such roll report (reports are kept for the newest " +
                                  std::to_string(kRollReportsMax) + " rejected rolls)"));
  }
  // The language the download asks for, else the upload's (a link opened without one).
  const Language language = c.request.accept_language.empty()
                                ? report->language
                                : PreferredLanguage(c.request.accept_language);
  return TextResponse(200, RollProblemsCsv(*report->problems, language), "text/csv; charset=utf-8");
}

HttpResponse Service::Decide(Context& c, bool approve) {
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  Result<std::string> text = body->String(approve ? "document" : "reason");
  if (!text.ok()) return ErrorResponse(text.status());
  if (!approve && IsBlank(*text)) {
    Status missing = InvalidArgument(
                         "a rejection needs a reason: say in \"reason\" why the roll goes back "
                         "to its maker")
                         .WithField("reason");
    return ErrorResponse(LocalizedStatus(missing, PreferredLanguage(c.request.accept_language)));
  }
  std::string batch = c.params["batch_id"];
  std::string fund = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.batches.find(batch);
    return it == s.batches.end() ? std::string() : it->second.fund;
  });
  if (!fund.empty()) {
    Status scope = CheckFundScope(c.who, fund);
    if (!scope.ok()) return ErrorResponse(scope);
  }
  DomainEvent event;
  if (approve) {
    event = fb::DisbursementBatchApprovedT{};
    auto& e = std::get<fb::DisbursementBatchApprovedT>(event);
    e.batch_id = batch;
    e.document = std::move(*text);
  } else {
    event = fb::DisbursementBatchRejectedT{};
    auto& e = std::get<fb::DisbursementBatchRejectedT>(event);
    e.batch_id = batch;
    e.reason = std::move(*text);
  }
  Status fields = CheckEventFields(event);
  if (!fields.ok()) return ErrorResponse(fields);
  return Submit(c, {std::move(event)});
}

}  // namespace fundledger
