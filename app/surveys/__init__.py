"""Satisfaction waves (满意度测评): single-use codes on printed cards, public answering, anomaly
checks shown beside the rates, auditors' exclusions, and the results that the annual
evaluation and the reports read."""
