"""Where supportsim may write, and how: output-directory safety, locks, spreadsheet-safe cells.

See docs/safety.md.  Files themselves are written by the one atomic writer, :mod:`sim.atomic`.
"""
from __future__ import annotations

from .cells import comment_line, csv_cell, csv_safe_frame, csv_unescape, csv_unescape_frame
from .directory import (MANIFEST, OutputDir, UnsafeOutput, check_output_dir, check_replaceable,
                        open_report_dir, read_manifest, signed_text)
from .lock import DirectoryBusy, DirectoryLock

__all__ = ["OutputDir", "check_replaceable", "signed_text", "open_report_dir", "UnsafeOutput", "check_output_dir", "read_manifest", "MANIFEST",
           "DirectoryLock", "DirectoryBusy", "csv_cell", "csv_unescape", "csv_safe_frame",
           "csv_unescape_frame", "comment_line"]
