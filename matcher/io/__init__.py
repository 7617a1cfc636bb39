"""Files in and out: what :mod:`matcher.batch` and :mod:`matcher.match_batch` read and write.

- :mod:`matcher.io.formats`: sniffing an input file (encoding, delimiter, header) and choosing
  the output's encoding and delimiter;
- :mod:`matcher.io.reading`: the CSV read in Arrow chunks, with spreadsheet row numbers;
- :mod:`matcher.io.defuse`: cells a spreadsheet would run as formulas, made safe;
- :mod:`matcher.io.writing`: the error report and pass 2's CSV or JSON output.

See docs/architecture.md for where this sits among the layers.
"""
