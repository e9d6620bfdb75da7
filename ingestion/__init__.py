"""Ingestion: connectors read sources, a run writes what they yield into the catalog (issue 14).

``IngestionService`` (``Catalog.ingestion``) runs a connector given a ``RunConfig``; connectors
are found through the ``semcat.connectors`` entry points (ingestion/connector.py says what one
is); ``IngestReport`` says what a run did; ``IngestionService.runs`` runs them in the
background, recorded in the run registry (ingestion/jobs.py, ingestion/runs.py).
"""

from ingestion.config import RunConfig, read_config
from ingestion.connector import Connector, ConnectorInfo, RunContext, SecretRef, available
from ingestion.report import IngestReport, ItemError
from ingestion.runner import IngestionService
from ingestion.runs import INTERRUPTED, RunRecord

__all__ = ["INTERRUPTED", "Connector", "ConnectorInfo", "IngestReport", "IngestionService",
           "ItemError", "RunConfig", "RunContext", "RunRecord", "SecretRef", "available",
           "read_config"]
