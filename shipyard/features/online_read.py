"""Online reads through the Feast provider's ``online_read``, without Feast's response machinery.

``FeatureStore.get_online_features`` spends most of its time outside the online store: it builds a
``GetOnlineFeaturesResponse`` proto, then ``to_dict`` converts every value back to Python through
``type_map`` (for 100 entities x 50 features, ~30 % of the call each). Shipyard already knows the views, the
join keys and the coerced entity values, so it asks the configured online store (SQLite, Redis, any
provider) for the rows itself and decodes the ``ValueProto``s once. Only plain feature views qualify; the
caller falls back to ``get_online_features`` for anything else (on-demand views, feature services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feast import FeatureStore, FeatureView


def read_online(
    store: FeatureStore,
    views: dict[str, FeatureView],
    refs: list[str],
    rows: list[dict[str, Any]],
) -> dict[str, list[Any]]:
    """``{feature name: [value or None per row]}`` for ``refs`` (``view:feature``), rows in order."""
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
    from feast.type_map import python_values_to_proto_values

    by_view: dict[str, list[str]] = {}
    for ref in refs:
        view_name, feature = ref.split(":", 1)
        by_view.setdefault(view_name, []).append(feature)
    provider = store._get_provider()  # the provider the store was configured with (public Provider API)
    out: dict[str, list[Any]] = {}
    for view_name, features in by_view.items():
        view = views[view_name]
        columns = view.entity_columns
        keys = [c.name for c in columns]
        # One read per distinct entity; repeated rows share it (as Feast's own _get_unique_entities does).
        positions: dict[tuple[Any, ...], int] = {}
        row_slots = []
        for row in rows:
            ident = tuple(row[k] for k in keys)
            row_slots.append(positions.setdefault(ident, len(positions)))
        uniques = list(positions)
        protos_by_key = [
            python_values_to_proto_values([u[i] for u in uniques], c.dtype.to_value_type())
            for i, c in enumerate(columns)
        ]
        entity_keys = [
            EntityKeyProto(join_keys=keys, entity_values=[protos[j] for protos in protos_by_key])
            for j in range(len(uniques))
        ]
        if _is_sqlite(provider):
            found = _sqlite_rows(store, provider, view, entity_keys, features)
        else:  # a copy: Feast's Redis store appends its "_ts:<view>" names to the list it is given
            read = provider.online_read(
                config=store.config, table=view, entity_keys=entity_keys, requested_features=list(features)
            )
            found = [values for _, values in read]
        decoded = [_decode_row(values, features) for values in found]
        for f_index, feature in enumerate(features):
            out[feature] = [decoded[slot][f_index] for slot in row_slots]
    return out


def _is_sqlite(provider: Any) -> bool:
    from feast.infra.online_stores.sqlite import SqliteOnlineStore

    return type(getattr(provider, "online_store", None)) is SqliteOnlineStore


def _sqlite_rows(
    store: FeatureStore, provider: Any, view: FeatureView, entity_keys: list[Any], features: list[str]
) -> list[dict[str, Any] | None]:
    """Feast SQLite online rows of ``view`` for ``entity_keys`` (in order): ``{feature: ValueProto}`` or None."""
    from feast.infra.key_encoding_utils import serialize_entity_key
    from feast.infra.online_stores.sqlite import _quote_id, _table_id
    from feast.protos.feast.types.Value_pb2 import Value as ValueProto

    config = store.config
    version = config.entity_key_serialization_version
    keys = [serialize_entity_key(k, entity_key_serialization_version=version) for k in entity_keys]
    table = _table_id(config.project, view, config.registry.enable_online_feature_view_versioning)
    conn = provider.online_store._get_conn(config)
    by_key: dict[bytes, dict[str, Any]] = {}
    wanted = set(features)
    cursor = conn.execute(
        f"SELECT entity_key, feature_name, value FROM {_quote_id(table)} "  # noqa: S608 - quoted id, bound values
        f"WHERE entity_key IN ({','.join('?' * len(keys))})",
        keys,
    )
    for key, feature, blob in cursor:
        if feature in wanted:
            value = ValueProto()
            value.ParseFromString(blob)
            by_key.setdefault(key, {})[feature] = value
    return [by_key.get(k) for k in keys]


def _decode_row(values: dict[str, Any] | None, features: list[str]) -> list[Any]:
    if not values:
        return [None] * len(features)
    result: list[Any] = []
    for feature in features:
        proto = values.get(feature)
        field = proto.WhichOneof("val") if proto is not None else None
        if field is None or field == "null_val":
            result.append(None)
        elif field.endswith("_list_val"):
            result.append(list(getattr(proto, field).val))
        else:
            result.append(getattr(proto, field))
    return result


def plain_views_only(views: dict[str, FeatureView], refs: list[str]) -> bool:
    """True when every ref names a regular feature view this reader can serve."""
    from feast import FeatureView

    return all(type(views.get(ref.split(":", 1)[0])) is FeatureView for ref in refs)
