"""Ingestion: CV files and SharePoint documents, Jira issues, MOCO (ERP) data."""
