"""The export/import format of the whole log: writer, reader, pages, bulk insert."""
