# ruff: noqa: E501
"""Source data for ``build_sample_fixtures.py``: people, projects, Jira tickets, MOCO planning.

Kept as compact tables (formatter disabled) so that a person's CV, tickets and bookings can be
compared at a glance. Everything is fictional. Reference date of the dataset: 2026-11-27.
"""

# fmt: off
from __future__ import annotations

from dataclasses import dataclass, field

COMPANY = "Example Consulting GmbH"

# --------------------------------------------------------------------------------------------
# People: every sample CV is one MOCO user
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Person:
    key: str
    firstname: str
    lastname: str
    cv: str
    email: str  # exactly as written in the CV
    phone: str
    city: str
    unit: str
    joined: str  # start at Example Consulting (consistent with the CV)
    moco_email: str | None = None  # set where MOCO differs in capitalisation only
    jira_email_hidden: bool = False  # Jira profile visibility hides the e-mail address
    employments: list[tuple[str, str | None, float]] = field(default_factory=list)  # (from, to, weekly hours)

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}"


P = Person
PEOPLE: list[Person] = [
    P("anna", "Anna", "Schmidt", "anna-schmidt.md", "anna.schmidt@example-consulting.com", "+49 30 5550 1234", "Berlin", "Cloud & Platform", "2019-04-01", moco_email="Anna.Schmidt@example-consulting.com"),
    P("katharina", "Katharina", "Vogel", "katharina-vogel.md", "katharina.vogel@example-consulting.com", "+49 40 5550 3817", "Hamburg", "Data & AI", "2020-01-01"),
    P("felix", "Felix", "Wagner", "felix-wagner.md", "felix.wagner@example-consulting.com", "+49 40 5550 3852", "Hamburg", "Data & AI", "2024-10-01"),
    P("sabine", "Sabine", "Richter", "sabine-richter.md", "sabine.richter@example-consulting.com", "+49 711 5550 4420", "Stuttgart", "Agile & Delivery", "2018-03-01"),
    P("maximilian", "Maximilian", "Bauer", "maximilian-bauer.md", "maximilian.bauer@example-consulting.com", "+49 221 5550 7781", "Köln", "Software Engineering", "2020-04-01"),
    P("oezlem", "Özlem", "Yılmaz", "oezlem-yilmaz.md", "oezlem.yilmaz@example-consulting.com", "+49 30 5550 6642", "Berlin", "UX & Design", "2021-07-01"),
    P("daniel", "Daniel", "Koch", "daniel-koch.md", "daniel.koch@example-consulting.com", "+49 89 5550 2918", "München", "Cloud & Platform", "2022-05-01"),
    P("lena", "Lena", "Hofmann", "lena-hofmann.md", "lena.hofmann@example-consulting.com", "+49 89 5550 3305", "München", "Data & AI", "2022-02-01"),
    P("stefan", "Stefan", "Neumann", "stefan-neumann.md", "stefan.neumann@example-consulting.com", "+49 69 5550 4128", "Frankfurt am Main", "SAP & Enterprise Applications", "2016-01-01", jira_email_hidden=True),
    P("julia", "Julia", "Meier", "julia-meier.md", "julia.meier@example-consulting.com", "+41 44 5550 1187", "Zürich", "Agile & Delivery", "2020-05-01"),
    P("niklas", "Niklas", "Schulz", "niklas-schulz.md", "niklas.schulz@example-consulting.com", "+49 341 5550 9034", "Leipzig", "Quality & Security", "2025-06-01", jira_email_hidden=True),
    P("paul", "Paul", "Zimmermann", "paul-zimmermann.md", "paul.zimmermann@example-consulting.com", "+49 40 5550 6120", "Hamburg", "Software Engineering", "2021-01-01"),
    P("jens", "Jens", "Hoffmann", "jens-hoffmann.txt", "jens.hoffmann@example-consulting.com", "+49 69 5550 1876", "Frankfurt am Main", "Software Engineering", "2018-07-01"),
    P("jan", "Jan", "Lehmann", "jan-lehmann.txt", "jan.lehmann@example-consulting.com", "+49 69 5550 1893", "Frankfurt am Main", "Software Engineering", "2023-04-01", employments=[("2023-04-01", "2024-09-30", 20.0), ("2024-10-01", None, 40.0)]),
    P("marco", "Marco", "Rossi", "marco_rossi_cv.txt", "marco.rossi@example-consulting.com", "+43 1 5550 4471", "Wien", "Software Engineering", "2021-06-01"),
    P("claudia", "Claudia", "Wolf", "claudia-wolf.txt", "claudia.wolf@example-consulting.com", "+49 341 5550 2764", "Leipzig", "Cloud & Platform", "2019-04-01", jira_email_hidden=True),
    P("andreas", "Andreas", "Schäfer", "andreas-schaefer.txt", "andreas.schaefer@example-consulting.com", "+49 221 5550 3349", "Köln", "Quality & Security", "2019-03-01"),
    P("kevin", "Kevin", "Braun", "kevin_braun.txt", "kevin.braun@example-consulting.com", "+49 341 5550 9177", "Leipzig", "Interne IT", "2024-10-01"),
    P("sophie", "Sophie", "Lang", "sophie-lang-cv.txt", "sophie.lang@example-consulting.com", "+43 1 5550 2290", "Wien", "Software Engineering", "2022-03-01"),
    P("florian", "Florian", "Graf", "florian-graf.txt", "florian.graf@example-consulting.com", "+49 89 5550 4476", "München", "Agile & Delivery", "2019-01-01"),
    P("juergen", "Jürgen", "Hartmann", "cv_juergen_hartmann.docx", "juergen.hartmann@example-consulting.com", "+49 89 5550 7312", "München", "SAP & Enterprise Applications", "2014-04-01", moco_email="Juergen.Hartmann@Example-Consulting.com"),
    P("mia", "Mia", "Fischer", "cv_mia_fischer.docx", "mia.fischer@example-consulting.com", "+49 30 5550 8823", "Berlin", "Software Engineering", "2020-04-01"),
    P("elena", "Elena", "Petrova", "cv_elena_petrova.docx", "elena.petrova@example-consulting.com", "+49 89 5550 6617", "München", "Cloud & Platform", "2019-01-01"),
    P("markus", "Markus", "Klein", "cv_markus_klein.docx", "markus.klein@example-consulting.com", "+49 221 5550 6034", "Köln", "Agile & Delivery", "2019-01-01"),
    P("laura", "Laura", "Schneider", "cv_laura_schneider.docx", "laura.schneider@example-consulting.com", "+49 221 5550 6071", "Köln", "Agile & Delivery", "2023-04-01", employments=[("2023-04-01", "2025-04-30", 20.0), ("2025-05-01", None, 40.0)]),
    P("david", "David", "Müller", "cv_david_mueller.docx", "david.mueller@example-consulting.com", "+49 711 5550 3386", "Stuttgart", "Software Engineering", "2019-01-01"),
    P("sarah", "Sarah", "Berg", "cv_sarah_berg.docx", "sarah.berg@example-consulting.com", "+49 711 5550 8149", "Stuttgart", "Embedded Systems", "2022-04-01", jira_email_hidden=True),
    P("tobias", "Tobias", "Krüger", "cv_tobias_krueger.docx", "tobias.krueger@example-consulting.com", "+41 44 5550 2741", "Zürich", "Architecture", "2020-09-01"),
    P("thomas", "Thomas", "Becker", "thomas-becker.pdf", "thomas.becker@example-consulting.com", "+49 40 5550 7265", "Hamburg", "Agile & Delivery", "2019-01-01"),
    P("nina", "Nina", "Krause", "nina_krause_cv.pdf", "nina.krause@example-consulting.com", "+49 30 5550 9418", "Berlin", "Quality & Security", "2020-01-01"),
    P("ahmet", "Ahmet", "Demir", "lebenslauf-ahmet-demir.pdf", "ahmet.demir@example-consulting.com", "+49 221 5550 1462", "Köln", "Software Engineering", "2022-03-01"),
    P("hannah", "Hannah", "Keller", "hannah-keller.pdf", "hannah.keller@example-consulting.com", "+49 89 5550 5803", "München", "Data & AI", "2021-03-01", jira_email_hidden=True, employments=[("2021-03-01", "2024-12-31", 40.0), ("2025-01-01", None, 20.0)]),
    P("moritz", "Moritz", "Schwarz", "moritz-schwarz.pdf", "moritz.schwarz@example-consulting.com", "+49 30 5550 7714", "Berlin", "Software Engineering", "2022-04-01"),
    P("carina", "Carina", "Roth", "lebenslauf_carina_roth.pdf", "carina.roth@example-consulting.com", "+49 69 5550 3960", "Frankfurt am Main", "Software Engineering", "2019-01-01"),
    P("christian", "Christian", "Lorenz", "christian-lorenz.pdf", "christian.lorenz@example-consulting.com", "+49 341 5550 6685", "Leipzig", "Cloud & Platform", "2021-01-01"),
    P("emma", "Emma", "Fuchs", "emma-fuchs-cv.pdf", "emma.fuchs@example-consulting.com", "+49 40 5550 8320", "Hamburg", "Software Engineering", "2022-01-01"),
]

# Two MOCO users without a CV, so consumers do not assume "every MOCO user has a CV".
EXTRA_USERS = [
    dict(firstname="Birgit", lastname="Sommer", email="birgit.sommer@example-consulting.com", unit="Geschäftsleitung", active=True, joined="2012-01-01"),
    dict(firstname="Oliver", lastname="Brandt", email="oliver.brandt@example-consulting.com", unit="Software Engineering", active=False, joined="2017-05-01"),
]

UNITS = {name: 4711000 + i for i, name in enumerate([
    "Geschäftsleitung", "Cloud & Platform", "Data & AI", "Software Engineering", "Agile & Delivery",
    "Quality & Security", "SAP & Enterprise Applications", "UX & Design", "Embedded Systems", "Architecture", "Interne IT",
])}

# Bavaria, Baden-Württemberg and Austria have 6 January as a public holiday.
EPIPHANY_CITIES = {"München", "Stuttgart", "Wien"}

# --------------------------------------------------------------------------------------------
# Projects: MOCO projects, most of them mirrored as Jira projects
# --------------------------------------------------------------------------------------------


@dataclass
class Project:
    key: str
    name: str
    customer: str
    billable: bool = True
    jira_name: str | None = None
    color: str = "#2965cc"


PROJECTS = [
    Project("NBK", "Core Banking Modernisation", "Nordhafen Privatbank AG", jira_name="Core Banking Modernisation", color="#1f77b4"),
    Project("KRE", "Kreditantragsstrecke", "Finanzverbund IT GmbH", jira_name="Loan Application Backend", color="#aec7e8"),
    Project("SHOP", "Online-Shop Relaunch", "Kaufhaus Brenner GmbH", jira_name="Online Shop Relaunch", color="#ff7f0e"),
    Project("INS", "Schadenportal", "Auenland Versicherung AG", jira_name="Schadenportal", color="#2ca02c"),
    Project("LOG", "Logistics Data Platform", "Hansa Logistik Gruppe", jira_name="Logistics Data Platform", color="#d62728"),
    Project("TRACK", "Sendungsverfolgung", "Hansa Logistik Gruppe", jira_name="Sendungsverfolgung", color="#ff9896"),
    Project("PAY", "Card Processing Platform", "PayNova GmbH", jira_name="Card Processing Platform", color="#9467bd"),
    Project("MOB", "Ticketing App", "Donauverkehr AG", jira_name="Ticketing App", color="#8c564b"),
    Project("MOBI", "Mobility Platform SRE", "Isar Mobility GmbH", jira_name="Mobility Platform", color="#e377c2"),
    Project("AZLZ", "Azure Landing Zone", "Weser Anlagenbau AG", jira_name="Azure Landing Zone", color="#7f7f7f"),
    Project("S4C", "S/4HANA Conversion", "Westfalen Maschinenbau AG", jira_name="S/4HANA Conversion", color="#bcbd22"),
    Project("KIA", "KI-Assistent Schadenbearbeitung", "Rheinische Assekuranz AG", jira_name="Claims Knowledge Assistant", color="#17becf"),
    Project("FRAUD", "Betrugserkennung Kfz", "Alpina Kfz-Versicherung AG", jira_name="Betrugserkennung Kfz", color="#393b79"),
    Project("KLIN", "Datenbankbetrieb Klinikverbund", "Klinikverbund Saale-Elster gGmbH", jira_name="Datenbankbetrieb Klinikverbund", color="#637939"),
    Project("LRZ", "OpenShift-Plattform", "Landesamt für IT-Dienstleistungen", jira_name="OpenShift-Plattform", color="#8c6d31"),
    Project("HOST", "Bestandsführung Leben", "Taunus Lebensversicherung AG", jira_name="Bestandsführung Leben", color="#843c39"),
    Project("BMS", "Batteriemanagement", "Neckar Automotive Systems GmbH", jira_name="Batteriemanagement", color="#7b4173"),
    Project("FLEET", "Fleet Management Portal", "Schwaben Spedition GmbH", jira_name="Fleet Management Portal", color="#3182bd"),
    Project("HOTEL", "Booking Engine", "Alpenhof Hotels GmbH", jira_name="Booking Engine", color="#e6550d"),
    Project("MKT", "Marketplace Checkout", "Gartenwelt Online AG", color="#31a354"),
    Project("WMS", "WMS-Rollout", "Hansa Logistik Gruppe", color="#756bb1"),
    Project("EAKTE", "Einführung E-Akte", "Landesamt für Verwaltungsdigitalisierung", color="#636363"),
    Project("ART", "Agile Coaching Connected Car", "Automobilwerke Süd AG", color="#fd8d3c"),
    Project("CLOUD", "Cloud-Strategie", "Limmat Versicherung AG", color="#74c476"),
    Project("INTIT", "Interne IT", COMPANY, billable=False, color="#bdbdbd"),
]

# --------------------------------------------------------------------------------------------
# Jira issues per assignee: (project, type, created, resolved, summary, description, labels, components)
# resolved=None -> open issue (status derived in the builder). In descriptions a blank line separates
# paragraphs and lines starting with "- " form a bullet list.
# --------------------------------------------------------------------------------------------

TICKETS: dict[str, list[tuple]] = {
    "anna": [
        ("NBK", "Story", "2024-02-12", "2024-03-22", "Design multi-account landing zone with AWS Control Tower",
         "Set up the account structure for the EKS migration and define service control policies for the bank's guardrails.\n\n"
         "- Accounts: security, log archive, shared services, one workload account per stage\n"
         "- Output: architecture decision record and Terraform baseline",
         ["aws", "landing-zone", "terraform"], ["Platform"]),
        ("NBK", "Story", "2024-05-06", "2024-07-19", "Transit Gateway and private connectivity to the on-premise data centre",
         "Private connectivity between the EKS VPCs and the bank's data centre via Transit Gateway and Direct Connect. "
         "No public endpoints for cluster APIs. Firewall change requests aligned with IT security.",
         ["aws", "network"], ["Platform"]),
        ("NBK", "Story", "2024-09-02", "2024-10-25", "GitOps delivery with ArgoCD for EKS workloads",
         "ApplicationSets per team, sync waves for database migrations, Helm charts from the internal registry. "
         "Production syncs require approval from the change manager.",
         ["kubernetes", "argocd", "gitops"], ["Platform"]),
        ("NBK", "Task", "2025-03-10", "2025-04-04", "Kubernetes migration runbook – wave 3 (payments domain)",
         "Runbook for moving the 18 payment services from VMware to EKS: pre-checks, DNS cut-over, rollback, hypercare. "
         "Dry run in the integration environment with the payments team.",
         ["kubernetes", "migration", "eks"], ["Migration"]),
        ("NBK", "Task", "2026-09-14", None, "DORA audit evidence for the EKS platform",
         "Collect evidence for the external audit: access reviews, change logs from ArgoCD, backup and restore tests, "
         "incident reports. Walkthrough with the IT risk committee planned for December.",
         ["compliance", "dora", "kubernetes"], ["Platform"]),
    ],
    "jens": [
        ("NBK", "Story", "2024-03-04", "2024-04-26", "Extract the account-statement service from the monolith",
         "Strangler pattern: route statement requests through the new Spring Boot service, keep the Java EE monolith as "
         "fallback until parity is proven by shadow traffic.",
         ["java", "spring-boot", "strangler"], ["Accounts"]),
        ("NBK", "Story", "2024-11-11", "2025-01-24", "SEPA Instant: end-to-end processing within 10 seconds",
         "Instant payment flow from order to booking with Kafka events between payment-service and account-service. "
         "Load test with Gatling: 200 payments per second at p99 < 2 s.",
         ["sepa-instant", "kafka", "java"], ["Payments"]),
        ("NBK", "Bug", "2025-06-03", "2025-06-05", "payment-service pods OOMKilled after JVM upgrade",
         "After the upgrade to Java 21 the pods exceed the 1 GiB memory limit. Set MaxRAMPercentage=75 and adjust the "
         "Helm values; add a JVM memory dashboard.",
         ["java", "kubernetes", "incident"], ["Payments"]),
        ("NBK", "Task", "2026-07-06", "2026-08-14", "Pact contract tests between payment-service and account-service",
         "Consumer-driven contracts in the pipeline; the broker blocks deployments that would break a consumer.",
         ["testing", "pact", "spring-boot"], ["Payments"]),
        ("NBK", "Story", "2026-10-05", None, "Transactional outbox for domain events of the account service",
         "Replace dual writes (Oracle + Kafka) by an outbox table and Debezium. Coordinate the schema change with the DBA team.",
         ["kafka", "java", "outbox"], ["Accounts"]),
    ],
    "andreas": [
        ("NBK", "Story", "2024-02-19", "2024-05-31", "Keycloak realm design and OIDC clients for internal applications",
         "Central identity provider for 30 internal applications: realm per environment, OIDC clients, Active Directory "
         "federation, role mapping.",
         ["keycloak", "iam", "oidc"], ["Security"]),
        ("NBK", "Task", "2024-06-10", "2024-07-05", "Penetration test of the new Keycloak login flows",
         "Test WebAuthn MFA, session handling, token lifetimes and redirect URI validation before go-live. Report with "
         "findings and retest.",
         ["pentest", "keycloak"], ["Security"]),
        ("PAY", "Task", "2025-09-01", "2025-10-10", "Annual PCI DSS penetration test 2025 (req. 11.4)",
         "External and internal penetration test of the card payment platform: checkout, merchant API, segmentation of "
         "the cardholder data environment.",
         ["pentest", "pci-dss"], ["Security"]),
        ("PAY", "Task", "2026-09-07", None, "PCI DSS 2026: segmentation test CDE vs. office network",
         "Verify that no path exists from the office VLANs into the cardholder data environment. Firewall rule review "
         "together with the network team.",
         ["pentest", "pci-dss", "network-security"], ["Security"]),
    ],
    "moritz": [
        ("PAY", "Story", "2024-04-08", "2024-06-28", "Tokenisation service for PAN storage (PCI DSS scope reduction)",
         "Only the tokenisation service may see card numbers; all other services work with tokens. Goal: reduce the "
         "PCI DSS scope from 27 services to a handful.",
         ["pci-dss", "kotlin", "tokenisation"], ["Card Vault"]),
        ("PAY", "Story", "2024-10-14", "2024-12-13", "3-D Secure 2.2 challenge flow for Visa and Mastercard",
         "Implement the challenge flow with the 3DS server, handle frictionless and challenge outcomes, SCA exemptions "
         "for low-value payments.",
         ["3ds", "kotlin", "psd2"], ["Authorisation"]),
        ("PAY", "Bug", "2025-02-03", "2025-02-07", "Duplicate refunds after acquirer timeout",
         "Refund requests are retried after a network timeout and executed twice. Introduce idempotency keys on the "
         "refund API and deduplicate in the acquirer adapter.",
         ["kotlin", "refunds"], ["Refunds"]),
        ("PAY", "Task", "2025-08-04", "2025-09-26", "Key rotation with AWS KMS and CloudHSM for the token vault",
         "Automated yearly rotation of data encryption keys; re-encryption job; evidence for the QSA.",
         ["aws", "kms", "pci-dss"], ["Card Vault"]),
        ("PAY", "Story", "2026-08-17", None, "Network tokens for recurring card payments",
         "Use scheme network tokens instead of PANs for subscriptions to reduce declines after card reissue.",
         ["kotlin", "network-tokens"], ["Authorisation"]),
    ],
    "jan": [
        ("KRE", "Story", "2024-11-04", "2024-12-06", "REST endpoint for document upload in the loan application",
         "Upload of payslips and ID documents (PDF, JPEG, max. 10 MB) with virus scan callback. Spring Boot, PostgreSQL "
         "for metadata.",
         ["java", "spring-boot"], ["Application API"]),
        ("KRE", "Task", "2025-03-03", "2025-04-11", "Raise test coverage of the scoring module",
         "Add integration tests with Testcontainers (PostgreSQL) for the scoring rules; target coverage 75 %.",
         ["testing", "testcontainers"], ["Scoring"]),
        ("KRE", "Bug", "2025-07-14", "2025-07-16", "Credit check returns 500 for applicants without bureau record",
         "NullPointerException when the credit bureau answers 'no record'. Map to a manual review instead.",
         ["java", "bug"], ["Scoring"]),
        ("KRE", "Story", "2026-06-08", "2026-07-24", "Migrate batch jobs from Java 11 to Java 21",
         "Update the nightly batch jobs to Java 21, replace deprecated APIs, run the regression suite.",
         ["java"], ["Batch"]),
        ("KRE", "Story", "2026-10-12", None, "Validation rules for self-employed applicants",
         "New required documents and income checks for self-employed applicants according to the credit policy update.",
         ["java", "spring-boot"], ["Application API"]),
    ],
    "katharina": [
        ("LOG", "Epic", "2024-01-15", "2024-09-30", "Lakehouse on Databricks with Delta Lake",
         "Target architecture for the logistics data platform: bronze/silver/gold layers on Delta Lake, Unity Catalog, "
         "Snowflake as serving layer for BI.",
         ["databricks", "spark", "architecture"], ["Platform"]),
        ("LOG", "Story", "2024-03-11", "2024-05-17", "CDC from the Oracle shipment database with Debezium",
         "Replace the nightly Oracle export by change data capture into Kafka topics (Debezium, Schema Registry).",
         ["kafka", "debezium", "cdc"], ["Ingestion"]),
        ("LOG", "Story", "2024-10-07", "2024-11-29", "Streaming shipment events to Snowflake",
         "Spark Structured Streaming job on Databricks, latency target below two minutes from scan to dashboard.",
         ["spark", "snowflake", "streaming"], ["Ingestion"]),
        ("LOG", "Task", "2025-04-07", "2025-05-09", "dbt project structure and test conventions",
         "Conventions for all domains: staging/intermediate/marts, naming, mandatory tests, CI with slim builds. Review "
         "with the two junior engineers.",
         ["dbt", "conventions"], ["Transformation"]),
        ("LOG", "Task", "2026-09-21", None, "Snowflake cost review and warehouse sizing",
         "Analyse credit usage per warehouse, introduce auto-suspend and resource monitors, propose sizing for 2027.",
         ["snowflake", "cost"], ["Platform"]),
    ],
    "felix": [
        ("LOG", "Story", "2024-11-18", "2024-12-20", "dbt models for the warehouse domain (stock movements)",
         "Staging and mart models for stock movements incl. not_null/unique tests.",
         ["dbt"], ["Transformation"]),
        ("LOG", "Bug", "2025-03-17", "2025-03-19", "Duplicate shipments in fct_shipments after late events",
         "Late-arriving scan events create duplicates. Deduplicate on shipment_id and event timestamp.",
         ["dbt", "data-quality"], ["Transformation"]),
        ("LOG", "Task", "2025-09-08", "2025-09-26", "Airflow DAG for the daily carrier invoice load",
         "Load carrier invoices from SFTP into Snowflake every morning, alert on missing files.",
         ["airflow", "snowflake"], ["Ingestion"]),
        ("LOG", "Story", "2026-07-13", "2026-08-21", "PySpark job: consume scan events from Kafka",
         "Databricks job reading the scan-events topic into the silver layer; checkpointing and schema evolution.",
         ["spark", "kafka", "databricks"], ["Ingestion"]),
        ("LOG", "Task", "2026-11-02", None, "Data quality checks for carrier master data",
         "Great Expectations suite for the carrier master data; failures should block the downstream dbt run.",
         ["data-quality", "great-expectations"], ["Transformation"]),
    ],
    "paul": [
        ("TRACK", "Story", "2024-02-05", "2024-03-28", "Go-Service für Scan-Ereignisse aus Kafka",
         "Consumer-Gruppe pro Depot, Verarbeitung idempotent über die Scan-ID, Status in Postgres.",
         ["go", "kafka"], ["Tracking"]),
        ("TRACK", "Story", "2024-08-12", "2024-10-04", "gRPC-Schnittstelle für den Partner-Sendungsstatus",
         "Bereitstellung des Sendungsstatus für Partner-Depots per gRPC inkl. Streaming-Updates.",
         ["go", "grpc"], ["Partner-API"]),
        ("TRACK", "Task", "2025-01-13", "2025-01-31", "Helm-Charts und Containerisierung aller Tracking-Services",
         "Einheitliche Dockerfiles (distroless), Helm-Charts für den Kubernetes-Cluster des Kunden, Readiness- und "
         "Liveness-Probes.",
         ["docker", "helm", "kubernetes"], ["Betrieb"]),
        ("TRACK", "Bug", "2025-11-03", "2025-11-05", "Consumer-Lag bei Spitzenlast über 15.000 Events/s",
         "Batch-Verarbeitung und Backpressure im Consumer einführen; Partitionierung des Topics erhöhen.",
         ["kafka", "performance", "go"], ["Tracking"]),
        ("TRACK", "Story", "2026-09-28", None, "Sendungsstatus-Historie in ClickHouse",
         "Historie aller Statuswechsel für Auswertungen des Kundenservice in ClickHouse ablegen.",
         ["go", "clickhouse"], ["Tracking"]),
    ],
    "maximilian": [
        ("SHOP", "Story", "2024-02-19", "2024-04-12", "Checkout: address step with server-side validation",
         "Address step in the Next.js checkout, validation against the address service, error messages from the BFF.",
         ["react", "nextjs", "checkout"], ["Checkout"]),
        ("SHOP", "Story", "2024-09-09", "2024-10-18", "BFF endpoint for the cart in NestJS",
         "Cart API in the backend-for-frontend, aggregating prices and stock from the merchandise system.",
         ["nodejs", "nestjs"], ["Checkout"]),
        ("SHOP", "Task", "2025-05-12", "2025-05-30", "Move the cart service to AWS ECS Fargate",
         "Container image, task definition, autoscaling; Postgres on RDS stays unchanged.",
         ["aws", "docker", "ecs"], ["Platform"]),
        ("SHOP", "Story", "2026-06-15", "2026-07-31", "Feature flags for the new checkout A/B test",
         "Flag evaluation server-side in the BFF and client-side in React; tracking of variant exposure.",
         ["react", "ab-test"], ["Checkout"]),
        ("SHOP", "Bug", "2026-10-26", None, "Postgres connection pool exhausted during campaign traffic",
         "During the autumn campaign the BFF ran out of database connections. Introduce PgBouncer and tune the pool size.",
         ["postgres", "nodejs", "incident"], ["Checkout"]),
    ],
    "emma": [
        ("SHOP", "Story", "2024-03-04", "2024-04-19", "Product listing filters as accessible disclosure widgets",
         "Filters must be operable by keyboard and announced correctly by screen readers.",
         ["react", "a11y"], ["Catalogue"]),
        ("SHOP", "Epic", "2024-11-04", "2025-06-20", "Accessibility audit of the online shop (EAA)",
         "Audit of all page templates against WCAG 2.1 AA ahead of the European Accessibility Act.\n\n"
         "- 120 findings, prioritised with the product owner\n"
         "- All critical findings fixed before June 2025",
         ["a11y", "wcag", "eaa"], ["Catalogue", "Checkout"]),
        ("SHOP", "Bug", "2025-01-20", "2025-01-24", "Checkout: focus lost after address validation error",
         "After a validation error the focus jumps to the top of the page; move focus to the error summary.",
         ["a11y", "checkout"], ["Checkout"]),
        ("SHOP", "Story", "2026-08-03", "2026-09-11", "Accessible combobox component for the design system",
         "Combobox following the ARIA authoring practices, documented in Storybook with interaction tests.",
         ["design-system", "storybook", "a11y"], ["Design System"]),
        ("SHOP", "Task", "2026-11-09", None, "Accessibility regression checks with axe-core in CI",
         "Run axe-core on the main templates in every pipeline; fail on new serious violations.",
         ["a11y", "ci"], ["Design System"]),
    ],
    "nina": [
        ("SHOP", "Story", "2024-01-22", "2024-03-15", "Playwright E2E suite: checkout happy paths",
         "End-to-end browser tests for guest checkout, registered checkout and voucher redemption.",
         ["playwright", "e2e"], ["QA"]),
        ("SHOP", "Task", "2024-06-03", "2024-06-28", "Parallel Playwright runs in GitLab CI (sharding)",
         "Shard the suite across four runners; target runtime below 15 minutes per merge request.",
         ["playwright", "gitlab-ci"], ["QA"]),
        ("SHOP", "Task", "2025-02-10", "2025-03-07", "Visual regression tests for PDP and PLP templates",
         "Screenshot comparison for product detail and listing pages in three viewports.",
         ["visual-regression", "playwright"], ["QA"]),
        ("SHOP", "Bug", "2025-10-06", "2025-10-08", "Flaky test: voucher code applied twice in cart",
         "Race condition between cart refresh and voucher request; wait for the network response instead of a fixed timeout.",
         ["flaky-test"], ["QA"]),
        ("SHOP", "Story", "2026-10-12", None, "E2E tests for the new checkout A/B variant",
         "Cover both variants of the checkout experiment; force the variant via feature flag cookie.",
         ["playwright", "e2e"], ["QA"]),
    ],
    "carina": [
        ("INS", "Story", "2024-02-12", "2024-04-05", "Schadenmeldung Hausrat: Formularstrecke in Angular",
         "Mehrstufige Formularstrecke mit Zwischenspeicherung, Validierung und barrierefreien Fehlermeldungen.",
         ["angular", "barrierefreiheit"], ["Frontend"]),
        ("INS", "Task", "2024-09-16", "2024-10-25", "Nx-Monorepo und Module Federation für drei Teams",
         "Aufteilung des Frontends in Remotes je Team, gemeinsame Komponentenbibliothek.",
         ["angular", "nx"], ["Frontend"]),
        ("INS", "Story", "2025-06-02", "2025-07-18", "Migration auf Angular 18 und Signals",
         "Schrittweise Umstellung der Stores auf Signals, zonenlose Change Detection im Kundenbereich.",
         ["angular"], ["Frontend"]),
        ("INS", "Bug", "2026-03-09", "2026-03-11", "Datei-Upload im Schadenformular nicht per Tastatur bedienbar",
         "Der Upload-Button ist kein fokussierbares Element. Umbau auf ein natives Input-Element mit Label.",
         ["barrierefreiheit", "angular"], ["Frontend"]),
        ("INS", "Story", "2026-10-05", None, "Kundenbereich: Übersicht offener Schäden",
         "Liste der offenen Schäden mit Status und nächsten Schritten, State Management mit NgRx.",
         ["angular", "ngrx"], ["Frontend"]),
    ],
    "oezlem": [
        ("INS", "Story", "2024-01-22", "2024-03-01", "Usability-Test der Schadenmeldung",
         "Usability-Test mit 30 Teilnehmenden, davon acht mit Seh- oder motorischen Einschränkungen. Ergebnisbericht "
         "mit priorisierten Maßnahmen.",
         ["ux-research", "barrierefreiheit"], ["UX"]),
        ("INS", "Task", "2024-06-17", "2024-08-30", "Barrierefreies Designsystem in Figma",
         "Komponenten für Formulare, Fehlermeldungen und Dialoge mit Kontrastprüfung und Fokus-Zuständen.",
         ["designsystem", "barrierefreiheit"], ["UX"]),
        ("INS", "Task", "2026-06-22", "2026-07-17", "BITV-Prüfung des Kundenbereichs vor Go-live",
         "Prüfung nach BITV 2.0 / WCAG 2.1, Maßnahmenplan für das Frontend-Team, Erklärung zur Barrierefreiheit.",
         ["bitv", "barrierefreiheit"], ["UX"]),
    ],
    "niklas": [
        ("INS", "Task", "2025-07-07", "2025-07-18", "Manuelle Regressionstests Release 3.4 Schadenmeldung",
         "Durchführung der 250 manuellen Regressionstestfälle, Dokumentation in Xray.",
         ["manueller-test", "regression"], ["QA"]),
        ("INS", "Task", "2025-11-03", "2025-11-14", "Testfälle in Xray für die Upload-Funktion anlegen",
         "Testfälle aus den User Stories ableiten und mit dem Product Owner abstimmen.",
         ["xray", "testfaelle"], ["QA"]),
        ("INS", "Task", "2026-09-14", "2026-09-25", "Regressionstest Release 4.0 (manuell)",
         "Manueller Regressionstest inklusive Smoke-Test der REST-API mit Postman.",
         ["manueller-test", "regression"], ["QA"]),
    ],
    "daniel": [
        ("MOBI", "Story", "2024-02-05", "2024-03-29", "OpenTelemetry tracing rollout: booking and pricing services",
         "OTel SDKs in Go and Java services, collector as DaemonSet, traces to Tempo, exemplars in Grafana.",
         ["opentelemetry", "tracing"], ["Observability"]),
        ("MOBI", "Task", "2024-07-01", "2024-08-09", "Spot node pools for stateless workloads on GKE",
         "Move stateless deployments to spot node pools with PodDisruptionBudgets; expected saving 25 %.",
         ["gke", "k8s", "cost"], ["Platform"]),
        ("MOBI", "Task", "2025-01-13", "2025-02-14", "SLOs and burn-rate alerts for the vehicle unlock API",
         "Availability SLO 99.95 %, latency SLO p95 < 800 ms; multi-window burn-rate alerts in Prometheus.",
         ["slo", "prometheus"], ["Observability"]),
        ("MOBI", "Task", "2025-10-06", "2025-10-24", "GKE upgrade 1.31 to 1.32 for all clusters",
         "Upgrade control planes and node pools of all four clusters, check deprecated APIs beforehand.",
         ["k8s", "gke", "upgrade"], ["Platform"]),
        ("MOBI", "Story", "2026-09-07", None, "Migrate remaining Jenkins jobs to GitLab CI and ArgoCD",
         "Eleven services still deploy from Jenkins; move them to the GitOps flow and switch Jenkins off.",
         ["gitops", "gitlab-ci", "argocd"], ["Platform"]),
    ],
    "elena": [
        ("AZLZ", "Epic", "2024-02-12", "2024-08-30", "Azure landing zone (hub-and-spoke) with Terraform",
         "Management groups, hub network with Azure Firewall, spokes per business unit; all resources as IaC.",
         ["azure", "terraform", "iac"], ["Landing Zone"]),
        ("AZLZ", "Story", "2024-05-13", "2024-06-21", "Reusable YAML pipeline templates for 25 teams",
         "Azure DevOps templates for build, test, image scan and deployment to AKS and App Service; approvals for production.",
         ["azure-devops", "ci-cd"], ["Pipelines"]),
        ("AZLZ", "Task", "2025-03-17", "2025-04-11", "Azure Policy initiative: tagging, encryption, allowed regions",
         "Deny non-compliant resources in production subscriptions; audit mode for sandboxes.",
         ["azure-policy", "governance"], ["Landing Zone"]),
        ("AZLZ", "Task", "2026-07-20", "2026-08-28", "Container image scanning with Trivy in the AKS pipeline",
         "Block deployments with critical vulnerabilities; weekly report to the security team.",
         ["aks", "security", "ci-cd"], ["Pipelines"]),
        ("AZLZ", "Story", "2026-11-02", None, "Handover: golden path for new subscriptions",
         "Documentation and self-service template so the client's platform team can create subscriptions without us.",
         ["documentation", "iac"], ["Landing Zone"]),
    ],
    "mia": [
        ("MOB", "Story", "2024-02-05", "2024-04-12", "Ticket purchase flow in SwiftUI (iOS)",
         "Rewrite of the purchase flow from UIKit to SwiftUI incl. snapshot tests.",
         ["ios", "swiftui"], ["iOS"]),
        ("MOB", "Story", "2024-09-16", "2024-11-08", "Apple Pay and Wallet passes for season tickets",
         "Pay with Apple Pay, add season tickets as Wallet passes with automatic updates.",
         ["ios", "apple-pay", "wallet"], ["iOS"]),
        ("MOB", "Story", "2025-05-05", "2025-06-27", "Live Activity: next connection on the lock screen",
         "Live Activity and Dynamic Island support for the next departure of a saved connection.",
         ["ios", "live-activities"], ["iOS"]),
        ("MOB", "Bug", "2026-02-16", "2026-02-18", "Crash on iPad when rotating during ticket purchase",
         "Layout constraint crash on iPad in split view. Reproducible on iPadOS 19.",
         ["ios", "ipad", "crash"], ["iOS"]),
        ("MOB", "Task", "2026-10-19", None, "VoiceOver audit of the ticket shop (iOS)",
         "Check all purchase screens with VoiceOver and Dynamic Type; fix labels and reading order.",
         ["ios", "accessibility"], ["iOS"]),
    ],
    "marco": [
        ("MOB", "Story", "2024-02-12", "2024-05-24", "Rebuild the ticket wallet in Jetpack Compose",
         "Replace the XML layouts of the ticket wallet with Compose; keep feature parity with iOS.",
         ["android", "compose"], ["Android"]),
        ("MOB", "Story", "2024-10-07", "2024-12-13", "Offline tickets with signed QR codes (Android)",
         "Tickets remain valid without network; signature verification at the gate scanners.",
         ["android", "offline"], ["Android"]),
        ("MOB", "Task", "2025-04-14", "2025-05-16", "NFC check-in at station gates",
         "Host card emulation for check-in at NFC gates; fallback to QR code.",
         ["android", "nfc"], ["Android"]),
        ("MOB", "Bug", "2026-06-08", "2026-06-10", "TalkBack reads the price twice on the ticket detail screen",
         "Merge semantics of price label and value in Compose.",
         ["android", "accessibility"], ["Android"]),
        ("MOB", "Story", "2026-09-21", None, "Android home screen widget for the next connection",
         "Feature parity with the iOS Live Activity: Glance widget with the next departure.",
         ["android", "widget"], ["Android"]),
    ],
    "juergen": [
        ("S4C", "Epic", "2024-01-15", None, "Custom Code Migration S/4HANA (1.800 Z-Objekte)",
         "Analyse und Anpassung aller kundeneigenen Entwicklungen für die Conversion von ECC 6.0 auf S/4HANA.\n\n"
         "- ATC-Läufe je Paket\n"
         "- Priorisierung nach Nutzung (SCMON)",
         ["s4hana", "abap", "atc"], ["Custom Code"]),
        ("S4C", "Task", "2024-04-08", "2024-06-14", "ATC-Prüfvariante und Simplification-Item-Checks einrichten",
         "Zentrales ATC-System, Prüfvariante S4HANA_READINESS, Ausnahmeprozess mit der Qualitätssicherung.",
         ["atc", "abap"], ["Custom Code"]),
        ("S4C", "Story", "2025-02-03", "2025-03-28", "Report ZPP_AUFTRAGSLISTE auf CDS Views umstellen",
         "Ablösung der SELECT-Schleifen durch CDS Views mit Parametern; Laufzeit soll unter 30 Sekunden liegen.",
         ["cds", "abap"], ["Produktion"]),
        ("S4C", "Story", "2025-09-15", "2025-11-07", "OData-Service für die Produktionsplanung (RAP)",
         "RAP-Business-Objekt für Planaufträge, OData V4 für die Fiori-App der Fertigungssteuerung.",
         ["rap", "odata", "abap"], ["Produktion"]),
        ("S4C", "Bug", "2026-10-12", None, "Kurzdump in ZSD_PREISFINDUNG nach Conversion (Feldlänge MATNR)",
         "Die Materialnummer hat in S/4HANA 40 Stellen; Strukturen und Schnittstellen im Z-Code anpassen.",
         ["abap", "s4hana"], ["Vertrieb"]),
    ],
    "david": [
        ("FLEET", "Story", "2024-03-04", "2024-04-26", "Live truck positions via SignalR",
         "Push positions of 6,000 trucks to the map view; throttle updates per client.",
         ["dotnet", "signalr"], ["Portal"]),
        ("FLEET", "Task", "2024-10-14", "2024-11-22", "Speed up the tour overview",
         "Rewrite EF Core queries, add indexed views in SQL Server; target response time below 500 ms.",
         ["sql-server", "performance", "ef-core"], ["Portal"]),
        ("FLEET", "Story", "2025-06-16", "2025-08-01", "Driver working hours from telematics via Azure Service Bus",
         "Consume working time events from the telematics provider and calculate the remaining driving time.",
         ["azure-service-bus", "dotnet"], ["Integration"]),
        ("FLEET", "Story", "2026-08-10", None, "Maintenance planning module",
         "New module in the modular monolith: service intervals, workshop appointments, reminders.",
         ["dotnet", "aspnet-core"], ["Portal"]),
    ],
    "sarah": [
        ("BMS", "Story", "2024-02-19", "2024-05-10", "Zellspannungsüberwachung (ASIL D) auf AURIX",
         "Überwachung der Zellspannungen mit sicherem Abschaltpfad; Safety-Anforderungen aus dem Sicherheitskonzept.",
         ["embedded", "iso26262", "c"], ["Cell Monitoring"]),
        ("BMS", "Task", "2024-09-09", "2024-10-18", "MISRA-Nachweis mit Polyspace für Release B2",
         "Abweichungen dokumentieren, Code-Findings beheben, Bericht für das Assessment.",
         ["misra", "polyspace"], ["Quality"]),
        ("BMS", "Task", "2025-05-12", "2025-06-27", "Nächtliche HIL-Tests in Python automatisieren",
         "Testfälle für Balancing und Fehlerreaktionen auf dem dSPACE-Prüfstand, Ergebnisbericht pro Build.",
         ["hil", "python"], ["Test"]),
        ("BMS", "Bug", "2026-09-14", None, "Balancing startet nicht nach CAN-Bus-Off-Recovery",
         "Nach einem Bus-Off wird der Balancing-Zustand nicht zurückgesetzt. Analyse mit CANoe und TRACE32.",
         ["can", "bms"], ["Balancing"]),
    ],
    "stefan": [
        ("HOST", "Story", "2024-04-08", "2024-06-28", "Vertragsauskunft als REST-API über z/OS Connect",
         "Bestehende CICS-Transaktion als REST-Service für das neue Kundenportal bereitstellen.",
         ["cobol", "cics", "zos-connect"], ["Schnittstellen"]),
        ("HOST", "Task", "2025-01-20", "2025-03-14", "Batch-Optimierung Nachtlauf Bestandsführung",
         "Parallelisierung der Jobnetze, DB2-Zugriffe optimieren; Ziel: Laufzeit unter fünf Stunden.",
         ["jcl", "db2", "batch"], ["Batch"]),
        ("HOST", "Story", "2026-06-01", "2026-08-28", "Umsetzung Rentenanpassung 2027 im Bestandssystem",
         "Anpassung der Berechnungsmodule in COBOL und der Testfälle für die Rentenanpassung.",
         ["cobol"], ["Leistung"]),
        ("HOST", "Bug", "2026-11-10", None, "SQLCODE -911 im Nachtlauf (Deadlock Vertragstabelle)",
         "Zwei Jobs sperren die Vertragstabelle gleichzeitig. Commit-Frequenz und Jobreihenfolge prüfen.",
         ["db2", "batch"], ["Batch"]),
    ],
    "claudia": [
        ("KLIN", "Task", "2024-02-05", "2024-04-26", "Always-On-Verfügbarkeitsgruppen für Labor- und KIS-Datenbanken",
         "Verfügbarkeitsgruppen über beide Rechenzentren, Listener, Failover-Tests mit den Fachbereichen.",
         ["mssql", "hochverfuegbarkeit"], ["Datenbanken"]),
        ("KLIN", "Task", "2025-01-13", "2025-01-31", "Patch-Management: kumulative Updates MSSQL 2022",
         "Rollierendes Patchen aller Instanzen ohne Ausfall der Klinikanwendungen.",
         ["mssql", "patching"], ["Datenbanken"]),
        ("KLIN", "Bug", "2026-07-06", "2026-07-08", "Langsame Abfragen im Laborsystem nach Statistik-Update",
         "Regressierte Ausführungspläne über den Query Store erzwungen, Statistikjob angepasst.",
         ["mssql", "performance"], ["Datenbanken"]),
        ("KLIN", "Task", "2026-10-19", None, "Postgres-Cluster mit Patroni für das neue Dokumentenarchiv",
         "Drei Knoten, pgBackRest für Backups, Monitoring über postgres_exporter und Grafana.",
         ["postgres", "patroni"], ["Datenbanken"]),
    ],
    "christian": [
        ("LRZ", "Epic", "2024-01-08", "2024-12-20", "OpenShift-Plattform Produktion mit Mandantentrennung",
         "Aufbau der Produktionsplattform im eigenen Rechenzentrum für die Fachverfahren der Landesverwaltung.",
         ["openshift", "kubernetes"], ["Plattform"]),
        ("LRZ", "Task", "2024-05-06", "2024-06-14", "NetworkPolicies und Egress-Firewall je Fachverfahren",
         "Standardmäßig alles verbieten, Freigaben je Namespace; Abstimmung mit der Netzwerksicherheit.",
         ["netzwerksicherheit", "openshift"], ["Plattform"]),
        ("LRZ", "Story", "2025-03-03", "2025-04-11", "GitLab-CI-Vorlage mit Image-Scan und Signierung",
         "Pipeline-Vorlage für alle Fachverfahren: Build, Trivy-Scan, Signierung mit cosign, Auslieferung per ArgoCD.",
         ["gitlab-ci", "supply-chain", "argocd"], ["CI/CD"]),
        ("LRZ", "Task", "2025-10-13", "2025-11-21", "Containerisierung des Fachverfahrens Wohngeld",
         "Java-Anwendung aus dem WebLogic-Betrieb in Container überführen, Helm-Chart, Lasttest.",
         ["containerisierung", "helm"], ["Fachverfahren"]),
        ("LRZ", "Task", "2026-09-28", None, "OpenShift 4.18 Upgrade Produktion",
         "Upgrade der Produktionscluster im Wartungsfenster, vorher Test in der Abnahmeumgebung.",
         ["openshift", "upgrade"], ["Plattform"]),
    ],
    "lena": [
        ("KIA", "Story", "2025-01-20", "2025-03-14", "Hybrid retrieval (BM25 + embeddings) in Azure AI Search",
         "Index policy documents with chunking by section; combine keyword and vector search with reranking.",
         ["rag", "search", "llm"], ["Retrieval"]),
        ("KIA", "Task", "2025-04-07", "2025-05-23", "Evaluation set with 600 expert-labelled questions",
         "Questions from claims handlers with reference answers; automated evaluation on every release.",
         ["rag", "evaluation"], ["Evaluation"]),
        ("KIA", "Story", "2025-10-06", "2025-11-14", "Answer citations with page references",
         "Every generated answer links to the source document and page; answers without a source are refused.",
         ["rag", "llm"], ["Retrieval"]),
        ("KIA", "Task", "2026-09-14", None, "Monitoring of answer quality and prompt versioning",
         "Track prompt versions and evaluation scores in MLflow; weekly quality report to the business.",
         ["mlops", "mlflow"], ["Evaluation"]),
    ],
    "ahmet": [
        ("KIA", "Story", "2025-01-27", "2025-03-07", "FastAPI-Service für Dokumenten-Upload mit Rechteprüfung",
         "Upload von Policen und Schadenakten, Prüfung der Berechtigung über die Rollen aus dem IdP.",
         ["fastapi", "python"], ["Backend"]),
        ("KIA", "Task", "2025-06-02", "2025-06-27", "Asynchrone PDF-Verarbeitung mit Celery und Redis",
         "Große PDF-Bestände im Hintergrund verarbeiten, Fortschritt per Polling abfragbar.",
         ["celery", "python"], ["Backend"]),
        ("KIA", "Bug", "2026-02-09", "2026-02-11", "Chat-Verlauf wird bei Token-Refresh nicht gespeichert",
         "Beim Refresh des OIDC-Tokens geht die Session-ID verloren; Speicherung vom Token entkoppeln.",
         ["oidc", "fastapi"], ["Backend"]),
        ("KIA", "Story", "2026-10-05", None, "Lasttest und Optimierung der Antwortzeiten",
         "Antwortzeiten der API ohne Modellaufruf unter 200 ms; Lasttest mit 300 parallelen Nutzern.",
         ["performance", "fastapi"], ["Backend"]),
    ],
    "hannah": [
        ("FRAUD", "Story", "2025-02-03", "2025-04-25", "Gradient-Boosting-Modell für Betrugsverdacht bei Kfz-Schäden",
         "Modell auf Schadendaten und Freitext-Merkmalen, Bewertung mit der Fachabteilung Betrugsbekämpfung.",
         ["ml", "xgboost"], ["Modell"]),
        ("FRAUD", "Task", "2025-06-16", "2025-07-25", "Vertex AI Pipeline mit monatlichem Retraining",
         "Training, Evaluation und Freigabe als Pipeline; Modellmonitoring auf Drift.",
         ["vertex-ai", "mlops"], ["Betrieb"]),
        ("FRAUD", "Task", "2026-06-08", "2026-07-31", "SHAP-Erklärungen in der Sachbearbeitungsoberfläche",
         "Die fünf wichtigsten Einflussfaktoren je Verdachtsfall verständlich anzeigen.",
         ["shap", "ml"], ["Modell"]),
        ("FRAUD", "Story", "2026-10-12", None, "Prototyp: Klassifikation von Schadenmeldungen mit einem LLM",
         "Vergleich eines großen Sprachmodells mit dem bestehenden Klassifikator auf 2.000 Meldungen.",
         ["llm", "prototyp"], ["Modell"]),
    ],
    "sophie": [
        ("HOTEL", "Story", "2024-02-12", "2024-04-05", "Room availability calendar (Nuxt 3, Pinia)",
         "Calendar with prices per night, availability from the channel manager API.",
         ["vue", "nuxt"], ["Booking"]),
        ("HOTEL", "Task", "2024-09-02", "2024-09-27", "Improve Lighthouse performance of the booking engine",
         "Code splitting, image optimisation, critical CSS; target score above 90.",
         ["performance", "vue"], ["Booking"]),
        ("HOTEL", "Story", "2025-05-05", "2025-06-13", "Payment step with the payment provider drop-in",
         "Embed the provider's drop-in component in the Vue checkout, handle 3-D Secure redirects.",
         ["vue", "payment"], ["Checkout"]),
        ("HOTEL", "Story", "2026-09-14", None, "Price comparison widget for partner websites",
         "Embeddable Vue widget with the best available rate, loaded by partner websites.",
         ["vue", "widget"], ["Booking"]),
    ],
}

# --------------------------------------------------------------------------------------------
# MOCO planning: (person, project, starts_on, ends_on, hours_per_day, tentative, comment)
# "DEAL:<name>" instead of a project key = tentative booking on a deal (no project yet).
# --------------------------------------------------------------------------------------------

PLANNING = [
    ("anna", "NBK", "2026-06-01", "2027-06-30", 8, False, "Lead Cloud Architect"),
    ("jens", "NBK", "2026-06-01", "2027-03-31", 8, False, "Tech Lead Accounts & Payments"),
    ("jens", "NBK", "2027-04-01", "2027-06-30", 8, True, "Option Verlängerung Q2/2027"),
    ("andreas", "PAY", "2026-06-01", "2027-02-26", 4, False, "PCI-DSS-Pentest und Retests, 50 %"),
    ("moritz", "PAY", "2026-06-01", "2027-06-30", 8, False, ""),
    ("jan", "KRE", "2026-06-01", "2027-01-29", 8, False, "Ende Beauftragung 01/2027"),
    ("katharina", "LOG", "2026-06-01", "2027-03-31", 8, False, "Lead Data Engineer"),
    ("felix", "LOG", "2026-06-01", "2026-12-31", 8, False, ""),
    ("paul", "TRACK", "2026-06-01", "2026-12-31", 8, False, "Projektende 12/2026"),
    ("maximilian", "SHOP", "2026-06-01", "2027-02-26", 8, False, ""),
    ("emma", "SHOP", "2026-06-01", "2026-12-31", 8, False, ""),
    ("nina", "SHOP", "2026-06-01", "2026-12-31", 8, False, ""),
    ("carina", "INS", "2026-06-01", "2027-06-30", 8, False, "Lead Frontend"),
    ("oezlem", "INS", "2026-06-01", "2027-03-31", 4, False, "UX und Barrierefreiheit, 50 %"),
    ("niklas", "INS", "2026-06-01", "2026-12-31", 8, False, "Manuelle Tests"),
    ("markus", "INS", "2026-06-01", "2027-06-30", 8, False, ""),
    ("laura", "INS", "2026-06-01", "2027-06-30", 8, False, ""),
    ("daniel", "MOBI", "2026-06-01", "2027-04-30", 8, False, ""),
    ("elena", "AZLZ", "2026-06-01", "2026-12-31", 8, False, "Übergabe an das Kundenteam bis Jahresende"),
    ("mia", "MOB", "2026-06-01", "2027-03-31", 8, False, "Lead iOS"),
    ("marco", "MOB", "2026-06-01", "2027-03-31", 8, False, "Lead Android"),
    ("juergen", "S4C", "2026-06-01", "2027-06-30", 8, False, "Go-live S/4HANA geplant 05/2027"),
    ("david", "FLEET", "2026-06-01", "2027-01-29", 8, False, ""),
    ("david", "DEAL:Fleet Portal Phase 3", "2027-02-01", "2027-06-30", 8, True, "Angebot liegt beim Kunden"),
    ("sarah", "BMS", "2026-06-01", "2027-06-30", 8, False, ""),
    ("stefan", "HOST", "2026-06-01", "2027-06-30", 8, False, ""),
    ("claudia", "KLIN", "2026-06-01", "2027-06-30", 4, False, "Betriebsvertrag, 50 %"),
    ("christian", "LRZ", "2026-06-01", "2027-04-30", 8, False, ""),
    ("lena", "KIA", "2026-06-01", "2027-03-31", 4, False, "ML Engineering, 50 %"),
    ("ahmet", "KIA", "2026-06-01", "2026-12-31", 8, False, "Backend-Umfang endet 12/2026"),
    ("hannah", "FRAUD", "2026-06-01", "2027-03-31", 4, False, "Teilzeit 20 h/Woche"),
    ("sophie", "HOTEL", "2026-06-01", "2027-04-30", 8, False, ""),
    ("julia", "MKT", "2026-06-01", "2027-02-26", 8, False, ""),
    ("thomas", "WMS", "2026-06-01", "2027-06-30", 8, False, "Gesamtprojektleitung"),
    ("florian", "EAKTE", "2026-06-01", "2026-12-31", 8, False, "Rollout-Abschluss 12/2026"),
    ("sabine", "ART", "2026-06-01", "2027-06-30", 4, False, "Agile Coaching, 2,5 Tage/Woche"),
    ("tobias", "CLOUD", "2026-06-01", "2027-03-31", 4, False, "Architekturboard und Reviews"),
    ("kevin", "INTIT", "2026-06-01", "2027-06-30", 8, False, "Interner IT-Support"),
]

# --------------------------------------------------------------------------------------------
# MOCO absences: (person, from, to, kind, comment, am, pm); weekends are skipped.
# kind: Urlaub | Krankheit | Feiertag | Abwesenheit. Public holidays are added for everybody.
# --------------------------------------------------------------------------------------------

ABSENCES = [
    ("katharina", "2027-01-04", "2027-01-08", "Urlaub", "Skiurlaub", True, True),
    ("christian", "2027-01-11", "2027-01-22", "Urlaub", "", True, True),
    ("sophie", "2027-01-04", "2027-01-15", "Urlaub", "", True, True),
    ("moritz", "2027-01-18", "2027-01-29", "Urlaub", "", True, True),
    ("maximilian", "2026-12-28", "2027-01-08", "Urlaub", "", True, True),
    ("juergen", "2027-01-07", "2027-01-15", "Urlaub", "", True, True),
    ("anna", "2026-12-28", "2026-12-31", "Urlaub", "", True, True),
    ("stefan", "2026-12-21", "2026-12-23", "Urlaub", "", True, True),
    ("mia", "2026-08-03", "2026-08-21", "Urlaub", "Sommerurlaub", True, True),
    ("jens", "2026-07-20", "2026-08-07", "Urlaub", "Sommerurlaub", True, True),
    ("daniel", "2026-09-07", "2026-09-11", "Urlaub", "", True, True),
    ("felix", "2026-10-12", "2026-10-14", "Krankheit", "", True, True),
    ("jens", "2026-11-16", "2026-11-17", "Krankheit", "", True, True),
    ("laura", "2026-11-20", "2026-11-20", "Abwesenheit", "Arzttermin", True, False),
]

ABSENCE_TYPES = {
    "Abwesenheit": (981001, "#B8C4D0"),
    "Feiertag": (981002, "#F2B8B5"),
    "Krankheit": (981003, "#F5D76E"),
    "Urlaub": (981004, "#9AD0C2"),
}
# fmt: on
