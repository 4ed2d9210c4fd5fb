"""The one GraphQL schema, merged from the areas' root fields.

Each area (``common``, ``network``, ``marketing``, ``campaigns``, ``risk``, ``admin``) declares
its root fields in its ``queries`` module, with its types beside them; this module lists them
into one ``Query`` and one ``Mutation``, in the order of the published schema, and adds the
abuse limits and error masking of ``api.security``. Resolvers read stored algorithm results or run
bounded Cypher (k-hop neighbourhoods, the ties around two customers for a warm-path search);
nothing recomputes a whole-graph algorithm per request.
"""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from api.graphql.admin import queries as admin
from api.graphql.campaigns import effects as campaign_effects
from api.graphql.campaigns import queries as campaign_area
from api.graphql.common import queries as common
from api.graphql.explorer.queries import ExplorerQuery
from api.graphql.marketing import queries as marketing
from api.graphql.network import queries as network
from api.graphql.performance import CrkgSchema, cached_validation
from api.graphql.risk import queries as risk
from api.security.extensions import schema_config, security_extensions
from graph.settings import CrkgSettings


@strawberry.type
class Query:
    me = admin.me
    customer = common.customer
    customers = common.customers
    connections = network.connections
    paths = network.paths
    referral_paths = marketing.referral_paths
    communities = network.communities
    community = network.community
    influencers = network.influencers
    referral_targets = marketing.referral_targets
    campaigns = campaign_area.campaigns
    list_versions = campaign_area.list_versions
    list_version = campaign_area.list_version
    list_version_effect = campaign_effects.list_version_effect
    guarantee_circles = risk.guarantee_circles
    risk_rings = risk.risk_rings
    exposure = risk.exposure
    related_party_group = risk.related_party_group
    related_party_groups = risk.related_party_groups
    defaulted_borrowers = risk.defaulted_borrowers
    risk_linkage = risk.risk_linkage
    algorithm_runs = admin.algorithm_runs
    job = admin.job


@strawberry.type
class Mutation:
    run_algorithm = admin.run_algorithm
    upsert_customers = admin.upsert_customers
    upsert_ties = admin.upsert_ties
    create_campaign = campaign_area.create_campaign
    draw_list_version = campaign_area.draw_list_version
    approve_list_version = campaign_area.approve_list_version
    export_list_version = campaign_area.export_list_version
    export_list_contacts = campaign_area.export_list_contacts


def build_schema(settings: CrkgSettings) -> strawberry.Schema:
    """The schema with the abuse limits and error masking of ``api.security``."""
    return CrkgSchema(
        query=merge_types("Query", (Query, ExplorerQuery)),  # the explorer page's own fields
        mutation=Mutation,
        extensions=[*security_extensions(settings), cached_validation()],
        config=schema_config(settings),
    )
