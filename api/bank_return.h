// A bank's return file (回盘文件) for one approved roll: which lines the bank paid and which it
// returned, read the way rolls are (roll_parser.h: UTF-8, UTF-8 with a BOM or GBK/GB18030
// detected; the header is row 1; every problem of every row with its spreadsheet row number).
//
// Columns (any order, matched like a roll's headers; the layout's own headers for the same
// fields are recognised too, so a bank can send back the file it was given with two columns
// more; other columns are ignored):
//   reference  | 参考号 | 业务参考号 | 附言 | 摘要     `<batch id>-<line no>` (bank_layout.h)
//   line_no    | 序号 | 行号                           instead of the reference
//   account    | 收款账号 | 账号 | 卡号                 must be the account the line paid
//   amount     | 金额 | 金额(元) | 交易金额           yuan (or fen, with a fen layout); must
//                                                      equal the line's
//   status     | 状态 | 处理结果 | 交易状态           成功 / success / paid, or
//                                                      失败 / 退回 / failed / returned
//   reason     | 原因 | 失败原因 | 备注                 required on a returned line
//
// ResolveBankReturn checks each row against the batch (the line exists, was paid, the account
// and amount are the line's, no line twice) and makes one PaymentReturned per returned row, so
// the whole file is recorded in one submission or not at all. A file whose returned lines are
// all recorded already is recognised (`already_recorded`): uploading it again records nothing.
//
//   Result<ParsedBankReturn> file = ParseBankReturn(body, layout, batch_id);
//   BankReturnResolution r = domain.Read([&](auto& s) { return ResolveBankReturn(s, ...); });
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/bank_layout.h"
#include "ledger/domain_state.h"
#include "ledger/events.h"

namespace fundledger {

struct BankReturnRow {
  uint64_t row = 0;  // in the spreadsheet (the header is row 1)
  uint32_t line_no = 0;
  std::string reference;
  std::string account;
  int64_t amount_fen = 0;
  bool returned = false;
  std::string reason;
  bool parsed = false;  // every cell read; false: ParsedBankReturn::errors say why
};

struct ParsedBankReturn {
  std::vector<BankReturnRow> rows;
  std::vector<Status> errors;  // each with line (row) and field
  std::string encoding;        // "UTF-8" or "GB18030"
};

// An error (not a ParsedBankReturn) when the file as a whole cannot be read: its encoding, a
// header naming no line (reference or line_no), amount or status column, no rows, more rows
// than kBatchLinesMax.
Result<ParsedBankReturn> ParseBankReturn(std::string_view body, const BankLayout& layout,
                                         std::string_view batch_id);

struct BankReturnResolution {
  std::vector<Status> problems;               // every row's, by row
  std::vector<fb::PaymentReturnedT> returns;  // one per returned row, when there is no problem
  size_t paid_rows = 0;                       // rows the bank paid
  bool already_recorded = false;              // every returned row's line is returned already
};

// `account_token(account)`: the keyed token of an account (Vault::BankToken), compared with
// the one the person's registration recorded. `as_first_upload`: a retry of an upload whose
// Idempotency-Key committed: lines returned already get their PaymentReturned as the first
// upload did (the ledger then compares the two), not `already_recorded`.
BankReturnResolution ResolveBankReturn(const DomainState& s, const std::string& batch_id,
                                       const ParsedBankReturn& file,
                                       const std::function<Hash(std::string_view)>& account_token,
                                       bool as_first_upload = false);

}  // namespace fundledger
