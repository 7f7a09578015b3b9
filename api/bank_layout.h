// The bank payment file (代发文件) of an approved roll, in the column layout a bank asks for.
//
// A layout names its columns (which field, under which header), whether a header row is
// written, the encoding (UTF-8, or GBK as most banks' batch systems read), the separator and
// how amounts are written (yuan "1045.00", or integer fen "104500"). The built-in layout
// "default" is: 序号, 收款人姓名, 收款账号, 金额(元), 参考号 in UTF-8 with commas. Operators add
// a bank's own in `<data dir>/bank-layouts.json` (read at each export, so a change needs no
// restart; a layout named "default" there replaces the built-in one):
//
//   {"layouts": [{"name": "icbc", "encoding": "GBK", "separator": "|", "header": false,
//                 "amount": "fen",
//                 "columns": [{"field": "account", "header": "账号"},
//                             {"field": "name", "header": "户名"},
//                             {"field": "amount", "header": "金额"},
//                             {"field": "reference", "header": "摘要"}]}]}
//
// Fields: reference (`<batch id>-<line no>`, how a return file names the line), line_no, name,
// account, amount, beneficiary_id, program_id, period (YYYY-MM). Separators: one of
// `,` `|` `;` or a tab. A cell holding the separator, a quote or a line break is quoted
// (RFC 4180). An erased person's line keeps its reference and amount; its name cell says
// kErasedName and its account cell is empty, so the file says why that line cannot be paid.
//
//   Result<BankLayout> layout = FindBankLayout(data_dir, "icbc");
//   Result<std::string> file = RenderBankFile(*layout, lines);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/status.h"
#include "ledger/vault.h"

namespace fundledger {

inline constexpr std::string_view kBankLayoutsFile = "bank-layouts.json";
inline constexpr size_t kBankLayoutsFileBytesMax = 1 << 20;
inline constexpr size_t kBankLayoutColumnsMax = 16;
inline constexpr size_t kBankLayoutsMax = 64;
inline constexpr std::string_view kDefaultBankLayout = "default";
inline constexpr std::string_view kErasedName = "已删除(erased)";

enum class BankField {
  kReference,
  kLineNo,
  kName,
  kAccount,
  kAmount,
  kBeneficiary,
  kProgram,
  kPeriod
};
enum class BankAmountFormat { kYuan, kFen };

struct BankColumn {
  BankField field = BankField::kReference;
  std::string header;
};

struct BankLayout {
  std::string name;
  std::vector<BankColumn> columns;
  bool header = true;
  bool gbk = false;  // false: UTF-8
  char separator = ',';
  BankAmountFormat amount = BankAmountFormat::kYuan;

  // The header a field has in this layout, or "" when the layout has no such column.
  std::string HeaderOf(BankField field) const;
};

BankLayout DefaultBankLayout();
// The layout named `name` (empty: "default") from `<data_dir>/bank-layouts.json`, or the
// built-in default. NotFound naming the layouts there is when there is none of that name;
// InvalidArgument naming the file, layout and field when the file is malformed.
Result<BankLayout> FindBankLayout(const std::string& data_dir, std::string_view name);
// Reads a layouts file's text (what FindBankLayout reads from the file).
Result<std::vector<BankLayout>> ParseBankLayouts(std::string_view json);

// One line of the payment file. `person` nullopt: the person was erased.
struct BankPaymentLine {
  uint32_t line_no = 0;
  std::string reference;
  std::string beneficiary;
  std::string program;
  int32_t period = 0;  // yyyymm
  int64_t amount_fen = 0;
  std::optional<PersonalData> person;
};

// "<batch id>-<line no>": the reference a payment line carries and a return line names.
std::string BankReference(std::string_view batch_id, uint32_t line_no);
// The line number a reference names for this batch, or nullopt when it names another.
std::optional<uint32_t> LineOfBankReference(std::string_view batch_id, std::string_view reference);

// The file's bytes. InvalidArgument naming the line when a name cannot be written in GBK.
Result<std::string> RenderBankFile(const BankLayout& layout,
                                   const std::vector<BankPaymentLine>& lines);

}  // namespace fundledger
