"""Tests of the law as code: hub/policies, the policy CLI and the simulation."""
