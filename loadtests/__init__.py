"""Locust load profiles (`citizens`, `vendor_api`, `sync`) and the pass/fail thresholds that judge a run."""
