"""Wire contracts: CloudEvent envelope, report and decision data, output events, stream names."""
