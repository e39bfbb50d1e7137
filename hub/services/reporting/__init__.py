"""Statistics for DKE's quarterly report (kvartalsrapport): quarters in Danish calendar dates,
statistical disclosure control, and the report's tables built from the query layer."""
