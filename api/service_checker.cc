// The checker's view of a roll waiting for approval (api/batch_review.h) and its printable
// approval sheet (api/approval_sheet.h), both computed from the domain state inside the read
// gate, with who prepared and decided it read from their log entries. The review also says
// whether the caller may decide the batch and, if not, why, in the caller's language.
#include <boost/json.hpp>

#include "api/approval_sheet.h"
#include "api/batch_review.h"
#include "api/disclosure_render.h"
#include "api/service.h"
#include "crypto/merkle.h"
#include "ledger/entry_codec.h"
#include "ledger/rule_code.h"

namespace fundledger {
namespace json = boost::json;
namespace {

// Actor, time and note of entry step.index (a batch's preparation or decision).
Status FillStep(const Log& log, ReviewStep& step) {
  FL_ASSIGN_OR_RETURN(Bytes bytes, log.ReadEntry(step.index));
  FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
  step.actor = std::string(e.actor);
  step.timestamp_ms = e.timestamp_ms;
  const uint8_t* payload = e.payload.data();
  if (e.event_type == fb::EventType::DisbursementBatchApproved) {
    auto* approved = flatbuffers::GetRoot<fb::DisbursementBatchApproved>(payload);
    if (approved->document() != nullptr) step.note = "审批文件：" + approved->document()->str();
  } else if (e.event_type == fb::EventType::DisbursementBatchRejected) {
    auto* rejected = flatbuffers::GetRoot<fb::DisbursementBatchRejected>(payload);
    if (rejected->reason() != nullptr) step.note = "退回原因：" + rejected->reason()->str();
  }
  return Status::Ok();
}

// Whether `who` may approve or reject the batch, and if not why: the same rules the ledger
// applies when they try (roles on the route, a different person from the maker).
json::object DecisionJson(const BatchReview& r, const Principal& who, Language language) {
  bool zh = language == Language::kZh;
  std::string code, message;
  if (r.status != "prepared") {
    code = "not_waiting";
    message = zh ? "该批次已经审批过，不能再审批。" : "This batch has already been decided.";
  } else if (SameActor(r.prepared.actor, who.actor)) {
    code = std::string(RuleCodeName(RuleCode::kSameMakerChecker));
    message = zh ? "你是该批次的制单人，须由另一人审批（制单与审批不能是同一人）。"
                 : "You prepared this batch; a different person must approve or reject it.";
  } else if (who.role != fb::Role::admin && who.role != fb::Role::checker) {
    code = "role";
    message = zh ? "只有复核人（checker）或管理员可以审批批次；你的角色是" +
                       std::string(RoleName(who.role)) + "。"
                 : "Only a checker or an admin may approve or reject a batch; your role is " +
                       std::string(RoleName(who.role)) + ".";
  }
  json::object o{{"allowed", code.empty()}};
  if (!code.empty()) {
    o["code"] = code;
    o["message"] = message;
  }
  return o;
}

}  // namespace

void Service::AddCheckerRoutes() {
  AddGet("/v1/disbursement-batches/{batch_id}/review", kReaders,
         "A roll as its checker reviews it: totals by program and by region, the change from "
         "the previous month's approved roll of the same fund (people added and dropped, amounts "
         "changed, with the lines, at most 200 of each), a sample of lines, and whether the caller "
         "may decide it",
         {}, &Service::BatchReviewRoute);
  AddGet(
      "/v1/disbursement-batches/{batch_id}/approval-sheet", kReaders,
      "The roll's printable approval sheet (审批表, HTML in Chinese with print CSS): totals, the "
      "change from last month, maker and checker with times and entries, the log size and root "
      "it was read at, signature lines",
      {}, &Service::ApprovalSheet);
}

Result<BatchReview> Service::ReadBatchReview(const std::string& batch_id) const {
  std::map<std::string, std::string> region_names;
  if (!options_.data_dir.empty()) {
    FL_ASSIGN_OR_RETURN(region_names, ReadRegionNames(options_.data_dir));
  }
  BatchReview review;
  FL_RETURN_IF_ERROR(ledger_.domain().Read(
      [&](const DomainState& at) { return ReviewBatch(at, batch_id, region_names, &review); }));
  // The entries are durable: the state that names them was read through the gate.
  FL_RETURN_IF_ERROR(FillStep(ledger_.log(), review.prepared));
  if (review.decided.index != 0) FL_RETURN_IF_ERROR(FillStep(ledger_.log(), review.decided));
  return review;
}

HttpResponse Service::BatchReviewRoute(Context& c) {
  Result<BatchReview> review = ReadBatchReview(c.params["batch_id"]);
  if (!review.ok()) return ErrorResponse(review.status());
  json::object o = BatchReviewJson(*review);
  o["decision"] = DecisionJson(*review, c.who, PreferredLanguage(c.request.accept_language));
  HttpResponse r = JsonResponse(200, json::serialize(o));
  r.log_size = review->read_at;
  return r;
}

HttpResponse Service::ApprovalSheet(Context& c) {
  Result<BatchReview> review = ReadBatchReview(c.params["batch_id"]);
  if (!review.ok()) return ErrorResponse(review.status());
  Result<Hash> root = TreeRoot(ledger_.log(), review->read_at);
  if (!root.ok()) return ErrorResponse(root.status());
  HttpResponse r =
      TextResponse(200, ApprovalSheetHtml(*review, HashHex(*root)), "text/html; charset=utf-8");
  r.log_size = review->read_at;
  return r;
}

}  // namespace fundledger
