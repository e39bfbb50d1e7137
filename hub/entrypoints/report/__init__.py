"""DKE's quarterly report (kvartalsrapport): tables from the query layer with disclosure
control (`tables`), charts (`charts`), the HTML page and CSV files (`write`)."""
