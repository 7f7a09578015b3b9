#!/usr/bin/python3
"""Validates fundledger's open-data exports the way the standards' own validators do.

  validate_open_data.py 360 SCHEMAS FILE   360Giving package: JSON Schema 2020-12 with format
                                           checking on (Debian's python3-jsonschema)
  validate_open_data.py iati SCHEMAS FILE  IATI activities: every codelist value and the
                                           publisher's org-id agency (xmllint checks the XSD)

SCHEMAS is ../shared/schemas. Prints each error on its own line and exits 1 if there is one.
"""
import datetime
import json
import re
import sys
import xml.etree.ElementTree as ET

import jsonschema

GRANT_SCHEMA_REF = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def checker():
    formats = jsonschema.FormatChecker()  # uri: python3-rfc3987

    # Debian 12's jsonschema has no date-time checker (rfc3339-validator is not packaged).
    @formats.checks("date-time", raises=ValueError)
    def date_time(text):
        if not isinstance(text, str):
            return True
        if not RFC3339.match(text):
            return False
        datetime.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        return True

    if "uri" not in formats.checkers:
        sys.exit("python3-rfc3987 is missing: format 'uri' would not be checked")
    return formats


def giving(schemas, path):
    with open(schemas + "/360/360-giving-package-schema.json") as f:
        package = json.load(f)
    with open(schemas + "/360/360-giving-schema.json") as f:
        grant = json.load(f)
    resolver = jsonschema.RefResolver.from_schema(
        package, store={GRANT_SCHEMA_REF: grant, grant["$id"]: grant})
    validator = jsonschema.Draft202012Validator(package, resolver=resolver,
                                                format_checker=checker())
    with open(path) as f:
        data = json.load(f)
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message
            for e in validator.iter_errors(data)]


def codes(schemas, name):
    root = ET.parse(schemas + "/codelists/" + name + ".xml").getroot()
    return {item.findtext("code") for item in root.iter("codelist-item")}


def iati(schemas, path):
    errors = []
    root = ET.parse(path).getroot()
    lists = {name: codes(schemas, name) for name in
             ("ActivityStatus", "TransactionType", "OrganisationType", "Currency",
              "OrganisationRegistrationAgency")}

    def expect(value, codelist, where):
        if value not in lists[codelist]:
            errors.append(f"{where}: '{value}' is not in the {codelist} codelist")

    for activity in root.iter("iati-activity"):
        ident = activity.findtext("iati-identifier")
        expect(activity.get("default-currency"), "Currency", ident + " default-currency")
        reporting = activity.find("reporting-org")
        ref = reporting.get("ref")
        if not ident.startswith(ref + "-"):
            errors.append(f"{ident}: does not start with the reporting org's ref {ref}")
        expect("-".join(ref.split("-")[:2]), "OrganisationRegistrationAgency", ident + " ref")
        expect(reporting.get("type"), "OrganisationType", ident + " reporting-org type")
        for org in activity.iter("participating-org"):
            expect(org.get("type"), "OrganisationType", ident + " participating-org type")
        expect(activity.find("activity-status").get("code"), "ActivityStatus", ident)
        for t in activity.iter("transaction"):
            expect(t.find("transaction-type").get("code"), "TransactionType", ident)
    return errors


def main():
    kind, schemas, path = sys.argv[1:4]
    errors = giving(schemas, path) if kind == "360" else iati(schemas, path)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
