#include "api/bank_return.h"

#include <charconv>
#include <map>
#include <set>

#include "api/roll_parser.h"
#include "ledger/amount.h"
#include "ledger/domain_rules.h"
#include "ledger/rule_code.h"

namespace fundledger {
namespace {

enum class ReturnColumn { kReference, kLineNo, kAccount, kAmount, kStatus, kReason, kIgnored };

const std::map<std::string, ReturnColumn, std::less<>>& ReturnColumnNames() {
  static const std::map<std::string, ReturnColumn, std::less<>> names{
      {"reference", ReturnColumn::kReference},  {"参考号", ReturnColumn::kReference},
      {"业务参考号", ReturnColumn::kReference}, {"附言", ReturnColumn::kReference},
      {"摘要", ReturnColumn::kReference},       {"line_no", ReturnColumn::kLineNo},
      {"序号", ReturnColumn::kLineNo},          {"行号", ReturnColumn::kLineNo},
      {"account", ReturnColumn::kAccount},      {"收款账号", ReturnColumn::kAccount},
      {"账号", ReturnColumn::kAccount},         {"卡号", ReturnColumn::kAccount},
      {"amount", ReturnColumn::kAmount},        {"金额", ReturnColumn::kAmount},
      {"金额(元)", ReturnColumn::kAmount},      {"交易金额", ReturnColumn::kAmount},
      {"status", ReturnColumn::kStatus},        {"状态", ReturnColumn::kStatus},
      {"处理结果", ReturnColumn::kStatus},      {"交易状态", ReturnColumn::kStatus},
      {"reason", ReturnColumn::kReason},        {"原因", ReturnColumn::kReason},
      {"失败原因", ReturnColumn::kReason},      {"备注", ReturnColumn::kReason},
  };
  return names;
}

// Which column is which: the built-in names, then the layout's own headers.
ReturnColumn ColumnOf(const std::string& header, const BankLayout& layout) {
  std::string key = CsvHeaderKey(header);
  auto it = ReturnColumnNames().find(key);
  if (it != ReturnColumnNames().end()) return it->second;
  for (auto [field, column] : {std::pair{BankField::kReference, ReturnColumn::kReference},
                               {BankField::kLineNo, ReturnColumn::kLineNo},
                               {BankField::kAccount, ReturnColumn::kAccount},
                               {BankField::kAmount, ReturnColumn::kAmount}}) {
    std::string own = layout.HeaderOf(field);
    if (!own.empty() && CsvHeaderKey(own) == key) return column;
  }
  return ReturnColumn::kIgnored;
}

Status RowError(uint64_t row, const char* field, std::string message) {
  return InvalidArgument(std::move(message)).WithField(field).WithLine(row);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// 成功 / 失败 and the banks' English words; anything else is a problem.
std::optional<bool> ReturnedStatus(std::string_view text) {
  static const std::set<std::string, std::less<>> paid{"成功", "已成功", "success", "succeeded",
                                                       "paid", "ok",     "s"};
  static const std::set<std::string, std::less<>> returned{"失败",   "退回", "已退回",   "退票",
                                                           "failed", "fail", "returned", "f"};
  std::string key = Lower(text);
  if (paid.contains(key)) return false;
  if (returned.contains(key)) return true;
  return std::nullopt;
}

Result<int64_t> ReadAmount(std::string_view text, BankAmountFormat format) {
  if (format == BankAmountFormat::kYuan) return ParseRollYuan(text);
  int64_t fen = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), fen);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    return InvalidArgument("'" + std::string(text.substr(0, 64)) +
                           "' is not a whole number of fen");
  return fen;
}

void ReadRow(const std::vector<std::string>& cells, const std::vector<ReturnColumn>& columns,
             const BankLayout& layout, std::string_view batch_id, BankReturnRow& row,
             std::vector<Status>& errors) {
  size_t before = errors.size();
  std::string line_text, amount, status;
  for (size_t i = 0; i < cells.size() && i < columns.size(); ++i) {
    switch (columns[i]) {
      case ReturnColumn::kReference:
        row.reference = cells[i];
        break;
      case ReturnColumn::kLineNo:
        line_text = cells[i];
        break;
      case ReturnColumn::kAccount:
        row.account = cells[i];
        break;
      case ReturnColumn::kAmount:
        amount = cells[i];
        break;
      case ReturnColumn::kStatus:
        status = cells[i];
        break;
      case ReturnColumn::kReason:
        row.reason = cells[i];
        break;
      case ReturnColumn::kIgnored:
        break;
    }
  }
  if (cells.size() != columns.size()) {
    errors.push_back(RowError(row.row, "line",
                              "the row has " + std::to_string(cells.size()) +
                                  " cells; the header has " + std::to_string(columns.size())));
  }
  if (!row.reference.empty()) {
    std::optional<uint32_t> line = LineOfBankReference(batch_id, row.reference);
    if (!line) {
      errors.push_back(RowError(row.row, "reference",
                                "reference '" + row.reference.substr(0, 64) +
                                    "' is not a line of batch '" + std::string(batch_id) +
                                    "' (<batch id>-<line no>)"));
    }
    row.line_no = line.value_or(0);
  } else {
    uint32_t line = 0;
    auto r = std::from_chars(line_text.data(), line_text.data() + line_text.size(), line);
    if (line_text.empty() || r.ec != std::errc() || r.ptr != line_text.data() + line_text.size() ||
        line == 0) {
      errors.push_back(RowError(row.row, "reference", "names no line: give the reference"));
    }
    row.line_no = line;
  }
  Result<int64_t> fen = ReadAmount(amount, layout.amount);
  if (!fen.ok()) {
    errors.push_back(RowError(row.row, "amount", fen.status().message()));
  } else {
    row.amount_fen = *fen;
  }
  std::optional<bool> returned = ReturnedStatus(status);
  if (!returned) {
    errors.push_back(RowError(row.row, "status",
                              "status '" + status.substr(0, 32) +
                                  "' is neither 成功/success nor 失败/退回/failed/returned"));
  }
  row.returned = returned.value_or(false);
  if (row.returned && row.reason.empty())
    errors.push_back(RowError(row.row, "reason", "a returned line needs the bank's reason"));
  row.parsed = errors.size() == before;
}

// The checks of one parsed row against its line; appends its problems.
void CheckRow(const DomainState& s, const std::string& batch_id, const BatchState& batch,
              const BankReturnRow& row, const std::function<Hash(std::string_view)>& account_token,
              std::vector<Status>& problems) {
  const BatchLine* found = batch.FindLine(row.line_no);
  if (found == nullptr) {
    problems.push_back(
        RuleError(RuleCode::kUnknownLine,
                  "batch '" + batch_id + "' has no line " + std::to_string(row.line_no),
                  "reference")
            .WithLine(row.row));
    return;
  }
  const BatchLine& line = *found;
  if (row.amount_fen != line.amount_fen) {
    problems.push_back(Conflict("the amount " + Amount::Fen(row.amount_fen).ToYuan() +
                                " is not the line's " + Amount::Fen(line.amount_fen).ToYuan())
                           .WithField("amount")
                           .WithLine(row.row));
  }
  auto person = s.beneficiaries.find(std::string(s.names[line.beneficiary]));
  if (person != s.beneficiaries.end() && !person->second.bank_account_token.empty()) {
    Hash token = account_token(row.account);
    if (!std::equal(token.begin(), token.end(), person->second.bank_account_token.begin(),
                    person->second.bank_account_token.end())) {
      problems.push_back(
          Conflict("the account is not the one line " + std::to_string(row.line_no) + " paid")
              .WithField("account")
              .WithLine(row.row));
    }
  }
}

}  // namespace

Result<ParsedBankReturn> ParseBankReturn(std::string_view body, const BankLayout& layout,
                                         std::string_view batch_id) {
  ParsedBankReturn file;
  FL_ASSIGN_OR_RETURN(std::string text, DecodeRollText(body, &file.encoding));
  std::string_view rest = text;
  std::vector<ReturnColumn> columns;
  std::vector<std::string> cells;
  uint64_t row_no = 0;
  while (!rest.empty()) {
    ++row_no;
    bool closed = NextCsvRecord(rest, cells, layout.separator);
    if (closed && std::all_of(cells.begin(), cells.end(), [](auto& c) { return c.empty(); }))
      continue;
    if (columns.empty()) {
      for (const std::string& c : cells) columns.push_back(ColumnOf(c, layout));
      auto has = [&](ReturnColumn c) {
        return std::find(columns.begin(), columns.end(), c) != columns.end();
      };
      if (!closed || !(has(ReturnColumn::kReference) || has(ReturnColumn::kLineNo)) ||
          !has(ReturnColumn::kAmount) || !has(ReturnColumn::kStatus)) {
        return InvalidArgument(
                   "the header row must name the reference (参考号) or line (序号), the amount "
                   "(金额) and the status (状态) columns")
            .WithLine(row_no);
      }
      continue;
    }
    if (file.rows.size() >= kBatchLinesMax)
      return TooLarge("a return file holds at most 1,000,000 rows").WithLine(row_no);
    BankReturnRow row;
    row.row = row_no;
    if (!closed) {
      file.errors.push_back(RowError(row_no, "line", "unterminated quote"));
    } else {
      ReadRow(cells, columns, layout, batch_id, row, file.errors);
    }
    file.rows.push_back(std::move(row));
  }
  if (file.rows.empty()) return InvalidArgument("the return file has no rows");
  return file;
}

BankReturnResolution ResolveBankReturn(const DomainState& s, const std::string& batch_id,
                                       const ParsedBankReturn& file,
                                       const std::function<Hash(std::string_view)>& account_token,
                                       bool as_first_upload) {
  BankReturnResolution out;
  out.problems = file.errors;
  const BatchState& batch = s.batches.at(batch_id);
  std::map<uint32_t, uint64_t> seen;  // line -> the row that named it first
  size_t returned_rows = 0, recorded_rows = 0;
  for (const BankReturnRow& row : file.rows) {
    if (!row.parsed) continue;
    auto [it, first] = seen.emplace(row.line_no, row.row);
    if (!first) {
      out.problems.push_back(RuleError(RuleCode::kDuplicateLineNo,
                                       "line " + std::to_string(row.line_no) + " is also in row " +
                                           std::to_string(it->second),
                                       "reference")
                                 .WithLine(row.row));
      continue;
    }
    CheckRow(s, batch_id, batch, row, account_token, out.problems);
    if (!row.returned) {
      ++out.paid_rows;
      continue;
    }
    ++returned_rows;
    const BatchLine* line = batch.FindLine(row.line_no);
    const bool recorded = line != nullptr && line->state == LineState::kReturned;
    if (recorded && !as_first_upload) {
      ++recorded_rows;
      continue;
    }
    fb::PaymentReturnedT e;
    e.batch_id = batch_id;
    e.line_no = row.line_no;
    e.reason = row.reason.substr(0, kTextBytesMax);
    e.bank_ref = row.reference.empty() ? BankReference(batch_id, row.line_no) : row.reference;
    if (line != nullptr && !recorded) {  // the ledger's rule for this line's return
      EntryMeta meta;
      meta.index = s.next_index;
      Status rule = CheckRules(s, DomainEvent(e), meta);
      if (!rule.ok()) {
        out.problems.push_back(rule.WithField("status").WithLine(row.row));
        continue;
      }
    }
    out.returns.push_back(std::move(e));
  }
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const Status& a, const Status& b) { return a.line() < b.line(); });
  out.already_recorded =
      out.problems.empty() && returned_rows > 0 && recorded_rows == returned_rows;
  if (!out.problems.empty() || out.already_recorded) {
    out.returns.clear();
  } else if (recorded_rows > 0) {  // some lines of this file were recorded by another upload
    for (const BankReturnRow& row : file.rows) {
      const BatchLine* line = batch.FindLine(row.line_no);
      if (row.returned && line != nullptr && line->state == LineState::kReturned) {
        out.problems.push_back(RuleError(RuleCode::kLineNotPaid,
                                         "line " + std::to_string(row.line_no) +
                                             " was returned already (by an earlier return file)",
                                         "status")
                                   .WithLine(row.row));
      }
    }
    out.returns.clear();
  }
  return out;
}

}  // namespace fundledger
