// The console's .xlsx reader, bundled by esbuild (api/CMakeLists.txt) into the build directory as
// /console/xlsx.js: the first sheet of a workbook as the CSV text the ledger's roll parser reads,
// one line per spreadsheet row (an empty row stays an empty line), so the row numbers of every
// problem are the spreadsheet's. Numbers stay the text Excel stored (never floating point); a
// date cell becomes its month, YYYY-MM. Usage: const csv = await FLXlsx.toCsv(arrayBuffer).
import { readSheet } from "read-excel-file/universal";

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

window.FLXlsx = { toCsv };
