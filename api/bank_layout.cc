#include "api/bank_layout.h"

#include <iconv.h>

#include <boost/json.hpp>
#include <charconv>
#include <fstream>

#include "ledger/amount.h"
#include "ledger/events.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr std::pair<std::string_view, BankField> kFieldNames[] = {
    {"reference", BankField::kReference}, {"line_no", BankField::kLineNo},
    {"name", BankField::kName},           {"account", BankField::kAccount},
    {"amount", BankField::kAmount},       {"beneficiary_id", BankField::kBeneficiary},
    {"program_id", BankField::kProgram},  {"period", BankField::kPeriod},
};

Status LayoutError(std::string_view layout, std::string message, std::string field) {
  return InvalidArgument(std::string(kBankLayoutsFile) + ": layout '" + std::string(layout) +
                         "': " + std::move(message))
      .WithField(std::move(field));
}

std::string StringOr(const json::object& o, std::string_view key, std::string fallback) {
  const json::value* v = o.if_contains(key);
  const json::string* s = v ? v->if_string() : nullptr;
  return s ? std::string(*s) : fallback;
}

// The options of one layout besides its columns.
Status ReadLayoutOptions(const json::object& o, BankLayout& layout) {
  std::string encoding = StringOr(o, "encoding", "UTF-8");
  if (encoding != "UTF-8" && encoding != "GBK")
    return LayoutError(layout.name, "encoding must be UTF-8 or GBK", "encoding");
  layout.gbk = encoding == "GBK";
  std::string separator = StringOr(o, "separator", ",");
  if (separator.size() != 1 || std::string_view(",|;\t").find(separator[0]) == std::string::npos)
    return LayoutError(layout.name, "separator must be one of , | ; or a tab", "separator");
  layout.separator = separator[0];
  std::string amount = StringOr(o, "amount", "yuan");
  if (amount != "yuan" && amount != "fen")
    return LayoutError(layout.name, "amount must be yuan or fen", "amount");
  layout.amount = amount == "fen" ? BankAmountFormat::kFen : BankAmountFormat::kYuan;
  const json::value* header = o.if_contains("header");
  if (header != nullptr && !header->is_bool())
    return LayoutError(layout.name, "header must be true or false", "header");
  layout.header = header == nullptr || header->get_bool();
  return Status::Ok();
}

Result<BankLayout> ReadLayout(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr)
    return InvalidArgument(std::string(kBankLayoutsFile) + ": a layout is an object");
  BankLayout layout;
  layout.name = StringOr(*o, "name", "");
  if (!IsValidId(layout.name)) return LayoutError(layout.name, "name must be an id", "name");
  FL_RETURN_IF_ERROR(ReadLayoutOptions(*o, layout));
  const json::value* cols = o->if_contains("columns");
  const json::array* columns = cols ? cols->if_array() : nullptr;
  if (columns == nullptr || columns->empty() || columns->size() > kBankLayoutColumnsMax)
    return LayoutError(layout.name, "columns must list 1..16 columns", "columns");
  for (const json::value& c : *columns) {
    const json::object* col = c.if_object();
    std::string field = col ? StringOr(*col, "field", "") : "";
    auto it = std::find_if(std::begin(kFieldNames), std::end(kFieldNames),
                           [&](const auto& f) { return f.first == field; });
    if (it == std::end(kFieldNames))
      return LayoutError(layout.name, "unknown column field '" + field + "'", "columns");
    std::string header = StringOr(*col, "header", field);
    if (header.empty() || header.find_first_of("\"\r\n") != std::string::npos ||
        header.find(layout.separator) != std::string::npos)
      return LayoutError(layout.name, "a column header is empty or holds a separator", "columns");
    layout.columns.push_back({it->second, std::move(header)});
  }
  return layout;
}

// A cell as the layout writes it: quoted when it holds the separator, a quote or a line break.
std::string Cell(std::string_view v, char separator) {
  if (v.find_first_of("\"\r\n") == std::string_view::npos &&
      v.find(separator) == std::string_view::npos)
    return std::string(v);
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string FieldText(const BankLayout& layout, const BankPaymentLine& line, BankField field) {
  switch (field) {
    case BankField::kReference:
      return line.reference;
    case BankField::kLineNo:
      return std::to_string(line.line_no);
    case BankField::kName:
      return line.person ? line.person->name : std::string(kErasedName);
    case BankField::kAccount:
      return line.person ? line.person->bank_account : std::string();
    case BankField::kAmount:
      return layout.amount == BankAmountFormat::kFen ? std::to_string(line.amount_fen)
                                                     : Amount::Fen(line.amount_fen).ToYuan();
    case BankField::kBeneficiary:
      return line.beneficiary;
    case BankField::kProgram:
      return line.program;
    case BankField::kPeriod:
      return FormatMonth(line.period);
  }
  return std::string();
}

// UTF-8 text as GBK; false when a character has no GBK code.
bool AppendGbk(iconv_t cd, std::string_view utf8, std::string& out) {
  std::string buf(utf8.size() + 8, '\0');  // GBK never takes more bytes than UTF-8
  char* in_ptr = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* out_ptr = buf.data();
  size_t out_left = buf.size();
  size_t r = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  if (r == static_cast<size_t>(-1) || in_left != 0) return false;
  out.append(buf.data(), buf.size() - out_left);
  return true;
}

}  // namespace

std::string BankLayout::HeaderOf(BankField field) const {
  for (const BankColumn& c : columns) {
    if (c.field == field) return c.header;
  }
  return std::string();
}

BankLayout DefaultBankLayout() {
  BankLayout layout;
  layout.name = std::string(kDefaultBankLayout);
  layout.columns = {{BankField::kLineNo, "序号"},
                    {BankField::kName, "收款人姓名"},
                    {BankField::kAccount, "收款账号"},
                    {BankField::kAmount, "金额(元)"},
                    {BankField::kReference, "参考号"}};
  return layout;
}

Result<std::vector<BankLayout>> ParseBankLayouts(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  const json::value* list = o ? o->if_contains("layouts") : nullptr;
  if (list == nullptr || !list->is_array() || list->get_array().size() > kBankLayoutsMax)
    return InvalidArgument(std::string(kBankLayoutsFile) +
                           " must be JSON {\"layouts\": [...]} with at most 64 layouts")
        .WithField("layouts");
  std::vector<BankLayout> layouts;
  for (const json::value& v : list->get_array()) {
    FL_ASSIGN_OR_RETURN(BankLayout layout, ReadLayout(v));
    layouts.push_back(std::move(layout));
  }
  return layouts;
}

Result<BankLayout> FindBankLayout(const std::string& data_dir, std::string_view name) {
  if (name.empty()) name = kDefaultBankLayout;
  std::vector<BankLayout> layouts;
  std::ifstream in(data_dir + "/" + std::string(kBankLayoutsFile), std::ios::binary);
  if (!data_dir.empty() && in) {
    std::string text(kBankLayoutsFileBytesMax + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kBankLayoutsFileBytesMax)
      return InvalidArgument(std::string(kBankLayoutsFile) + " is larger than 1 MiB");
    FL_ASSIGN_OR_RETURN(layouts, ParseBankLayouts(text));
  }
  std::string known = std::string(kDefaultBankLayout);
  for (const BankLayout& l : layouts) {
    if (l.name == name) return l;
    if (l.name != kDefaultBankLayout) known += ", " + l.name;
  }
  if (name == kDefaultBankLayout) return DefaultBankLayout();
  return NotFound("no bank layout '" + std::string(name) + "' (there are: " + known + ")")
      .WithField("layout");
}

std::string BankReference(std::string_view batch_id, uint32_t line_no) {
  return std::string(batch_id) + "-" + std::to_string(line_no);
}

std::optional<uint32_t> LineOfBankReference(std::string_view batch_id, std::string_view reference) {
  if (reference.size() <= batch_id.size() + 1 || !reference.starts_with(batch_id) ||
      reference[batch_id.size()] != '-')
    return std::nullopt;
  std::string_view digits = reference.substr(batch_id.size() + 1);
  uint32_t line = 0;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), line);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || line == 0)
    return std::nullopt;
  return line;
}

Result<std::string> RenderBankFile(const BankLayout& layout,
                                   const std::vector<BankPaymentLine>& lines) {
  iconv_t cd = layout.gbk ? iconv_open("GBK", "UTF-8") : reinterpret_cast<iconv_t>(-1);
  if (layout.gbk && cd == reinterpret_cast<iconv_t>(-1))
    return Internal("iconv has no GBK converter");
  std::string out;
  auto append_row = [&](const std::vector<std::string>& cells, uint32_t line_no) -> Status {
    std::string row;
    for (size_t i = 0; i < cells.size(); ++i)
      row += (i ? std::string(1, layout.separator) : "") + Cell(cells[i], layout.separator);
    row += "\r\n";
    if (!layout.gbk) {
      out += row;
    } else if (!AppendGbk(cd, row, out)) {
      return InvalidArgument("line " + std::to_string(line_no) +
                             " holds a character GBK cannot write; choose a UTF-8 layout")
          .WithLine(line_no);
    }
    return Status::Ok();
  };
  Status st;
  if (layout.header) {
    std::vector<std::string> headers;
    for (const BankColumn& c : layout.columns) headers.push_back(c.header);
    st = append_row(headers, 0);
  }
  for (size_t i = 0; i < lines.size() && st.ok(); ++i) {
    std::vector<std::string> cells;
    for (const BankColumn& c : layout.columns)
      cells.push_back(FieldText(layout, lines[i], c.field));
    st = append_row(cells, lines[i].line_no);
  }
  if (layout.gbk) iconv_close(cd);
  if (!st.ok()) return st;
  return out;
}

}  // namespace fundledger
