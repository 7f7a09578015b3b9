// `fundledger backup` and `fundledger restore`: the embedded ledger's backup while it serves, and
// a restore that takes a backup only when its log verifies in full and is consistent with a
// signed checkpoint the operator kept.
//
// Backup directory B, built in `B.partial-<pid>` and renamed to B once checked:
//   B/store/          a RocksDB store: every column of DIR's store as of one whole commit
//                     (store_copy.h: a secondary instance, as the server holds the LOCK),
//                     without the vault's key and index rows
//   B/signing.key, B/tokens, B/accounts, B/region-names.tsv, B/disclosures/   when DIR has them
//   B/manifest.json   {"format": "fundledger-backup-v1", "origin", "size", "root" (hex of the
//                     tree of `size` entries), "checkpoint_size", "checkpoint" (the latest signed
//                     checkpoint, C2SP note text as /v1/checkpoint serves it), "created_ms",
//                     "store_rows", "vault_rows" (the file below), "vault_rows_count"}
// The backup is verified (as `verify` does) before it is renamed into place. It reads the store
// itself rather than asking the server (an admin endpoint): no token, no route, and the same
// command whether or not a server runs on DIR.
//
// Personal data. B never holds the vault's master key (vault.h: it is not in DIR), nor a
// person's sealed key ("k/") or ID-index row ("i/"): those go to the vault rows file
// (vault_rows_file.h), by default DIR.keys/vault-rows beside the master key, replaced whole by
// each backup. B keeps the records ("d/"), sealed under the per-person keys, which open for no
// one without the rows file, master key holders included. `erase` drops the person's rows from
// the file too, so once a person is erased no backup, however old, can bring them back; backups
// of the key directory keep its current copy only.
//
// Restore copies B into `D.restoring-<pid>`, verifies the log from entry 0 (VerifyChain, as
// `verify`), opens the kept checkpoint with the log's key and refuses a backup whose log is
// shorter (rolled back) or whose tree at the checkpoint's size has another root (forked), then
// puts the vault rows file's rows back (when there is one) and renames the directory to D. D
// must not exist or be empty; it is not touched when anything fails.
//
//   fundledger backup --data /srv/ledger --to /backup/2026-12-06
//   fundledger restore --from /backup/2026-12-06 --to /srv/ledger --checkpoint kept.txt
#pragma once

#include <string>

namespace fundledger {

struct BackupFlags {
  std::string dir, to;
  std::string vault_rows;  // "": beside the master key (BackupVaultRowsPath)
};

struct RestoreFlags {
  std::string from, to;
  std::string checkpoint;  // a signed checkpoint note the operator kept (required)
  std::string vault_rows;  // "": beside the restored ledger's master key, when it is there
};

// The default vault rows file of the ledger at `dir`: in the directory of its master key
// (ResolveVaultKey with `vault_key` given), or DIR.keys when the key sits inside DIR.
std::string BackupVaultRowsPath(const std::string& dir, const std::string& vault_key = "");

int CmdBackup(const BackupFlags& flags);
int CmdRestore(const RestoreFlags& flags);

}  // namespace fundledger
