"""Ingestion: connectors read sources, a run writes what they yield into the catalog (issue 14).

``IngestionService`` (``Catalog.ingestion``) runs a connector given a ``RunConfig``; connectors
are found through the ``semcat.connectors`` entry points (ingestion/connector.py says what one
is); ``IngestReport`` says what a run did.
"""

from ingestion.config import RunConfig, read_config
from ingestion.connector import Connector, ConnectorInfo, RunContext, SecretRef, available
from ingestion.report import IngestReport, ItemError
from ingestion.runner import IngestionService

__all__ = ["Connector", "ConnectorInfo", "IngestReport", "IngestionService", "ItemError",
           "RunConfig", "RunContext", "SecretRef", "available", "read_config"]
