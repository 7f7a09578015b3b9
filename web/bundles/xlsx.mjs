// The console's .xlsx reader, bundled by esbuild (api/CMakeLists.txt) into the build directory as
// /console/xlsx.js: the first sheet of a workbook as the CSV text the ledger's roll parser reads,
// one line per spreadsheet row (an empty row stays an empty line), so the row numbers of every
// problem are the spreadsheet's. Numbers stay the text Excel stored (never floating point); a
// date cell becomes its month, YYYY-MM. Usage: const csv = await FLXlsx.toCsv(arrayBuffer).
// And the other way (write-excel-file): rows of cells (a header row first) as one .xlsx sheet,
// numbers kept numbers, the header bold and frozen: const blob = await FLXlsx.toXlsx(rows).
import { readSheet } from "read-excel-file/universal";
import writeXlsxFile from "write-excel-file/browser";

function cellText(value) {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) {
    return `${value.getUTCFullYear()}-${String(value.getUTCMonth() + 1).padStart(2, "0")}`;
  }
  return String(value);
}

function csvCell(text) {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function toCsv(bytes) {
  const rows = await readSheet(bytes, { parseNumber: (text) => text });
  return rows.map((row) => {
    const cells = row.map(cellText);
    return cells.every((c) => c === "") ? "" : cells.map(csvCell).join(",");
  }).join("\r\n") + "\r\n";
}

async function toXlsx(rows, sheet = "Sheet1") {
  const data = rows.map((row, i) => row.map((value) => ({
    value: value === "" ? null : value,
    type: typeof value === "number" ? Number : String,
    fontWeight: i === 0 ? "bold" : undefined,
  })));
  const widths = rows[0].map((_, c) => ({ width: Math.min(80, Math.max(8, ...rows.map((r) => String(r[c] ?? "").length * 2))) }));
  return writeXlsxFile(data, { sheet, columns: widths, stickyRowsCount: 1 }).toBlob();
}

window.FLXlsx = { toCsv, toXlsx };
