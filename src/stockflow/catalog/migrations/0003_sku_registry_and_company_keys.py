"""The platform SKU registry, and the catalog's keys within a company.

SKUs stay unique across the platform, but that rule moves from a unique index on the
product table (which could not live on one company's shard) to ``SkuRegistration``, kept
by triggers on the product table. Order matters: the registry is filled while the old
unique index still holds, and only then are the products' rules narrowed to their company.
Foreign keys between catalog tables become same-company keys (``tenancy.dbschema``).
Not atomic: the new unique indexes are built ``CONCURRENTLY`` on PostgreSQL.
"""

import django.db.models.deletion
from django.db import migrations, models

from stockflow.tenancy.dbschema import RekeyUnique, SameCompanyForeignKeys

POSTGRES_REGISTRY = [
    """
    CREATE OR REPLACE FUNCTION catalog_sku_registry_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO catalog_skuregistration (sku, company_id, product_id)
            VALUES (NEW.sku, NEW.company_id, NEW.id);
        ELSIF TG_OP = 'UPDATE' THEN
            UPDATE catalog_skuregistration SET sku = NEW.sku WHERE product_id = OLD.id;
        ELSE
            DELETE FROM catalog_skuregistration WHERE product_id = OLD.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS catalog_product_sku_registry ON catalog_product",
    """
    CREATE TRIGGER catalog_product_sku_registry AFTER INSERT OR DELETE ON catalog_product
    FOR EACH ROW EXECUTE FUNCTION catalog_sku_registry_sync()
    """,
    "DROP TRIGGER IF EXISTS catalog_product_sku_registry_change ON catalog_product",
    """
    CREATE TRIGGER catalog_product_sku_registry_change AFTER UPDATE OF sku ON catalog_product
    FOR EACH ROW WHEN (OLD.sku IS DISTINCT FROM NEW.sku)
    EXECUTE FUNCTION catalog_sku_registry_sync()
    """,
    """
    INSERT INTO catalog_skuregistration (sku, company_id, product_id)
    SELECT sku, company_id, id FROM catalog_product ORDER BY id
    ON CONFLICT (sku) DO NOTHING
    """,
]

# SQLite drops a table's triggers when Django rebuilds the table (most field changes):
# they are created again after the rebuild below, and a test checks they are there.
SQLITE_REGISTRY = [
    """
    CREATE TRIGGER IF NOT EXISTS catalog_product_sku_registry_insert
    AFTER INSERT ON catalog_product BEGIN
        INSERT INTO catalog_skuregistration (sku, company_id, product_id)
        VALUES (NEW.sku, NEW.company_id, NEW.id);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS catalog_product_sku_registry_change
    AFTER UPDATE OF sku ON catalog_product WHEN OLD.sku IS NOT NEW.sku BEGIN
        UPDATE catalog_skuregistration SET sku = NEW.sku WHERE product_id = OLD.id;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS catalog_product_sku_registry_delete
    AFTER DELETE ON catalog_product BEGIN
        DELETE FROM catalog_skuregistration WHERE product_id = OLD.id;
    END
    """,
    """
    INSERT OR IGNORE INTO catalog_skuregistration (sku, company_id, product_id)
    SELECT sku, company_id, id FROM catalog_product ORDER BY id
    """,
]


def install_registry(apps, schema_editor):
    """Triggers that keep the registry, and the registry's backfill: idempotent."""
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_REGISTRY if postgres else SQLITE_REGISTRY:
        schema_editor.execute(statement, params=None)


def remove_constraint(model, name):
    return migrations.RemoveConstraint(model_name=model, name=name)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0002_supplier_link_observed_lead_time"),
        ("tenancy", "0002_company_timezone"),
    ]

    operations = [
        migrations.CreateModel(
            name="SkuRegistration",
            fields=[
                ("sku", models.CharField(max_length=64, primary_key=True, serialize=False)),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.company",
                    ),
                ),
                (
                    "product",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalog.product",
                    ),
                ),
            ],
        ),
        migrations.RunPython(install_registry, migrations.RunPython.noop, elidable=False),
        RekeyUnique(
            "catalog_product",
            "product_sku_unique",
            ["sku"],
            old_name="catalog_product_sku_key",
            drop_indexes=["catalog_product_sku_5c54c070_like"],
            state_operations=[
                migrations.AlterField(
                    model_name="product", name="sku", field=models.CharField(max_length=64)
                ),
                migrations.AddConstraint(
                    model_name="product",
                    constraint=models.UniqueConstraint(
                        fields=("company", "sku"), name="product_sku_unique"
                    ),
                ),
            ],
        ),
        RekeyUnique(
            "catalog_productsupplier",
            "product_supplier_unique",
            ["product_id", "supplier_id"],
            state_operations=[
                remove_constraint("productsupplier", "product_supplier_unique"),
                migrations.AddConstraint(
                    model_name="productsupplier",
                    constraint=models.UniqueConstraint(
                        fields=("company", "product", "supplier"), name="product_supplier_unique"
                    ),
                ),
            ],
        ),
        RekeyUnique(
            "catalog_productsupplier",
            "product_one_primary_supplier",
            ["product_id"],
            condition="is_primary",
            old_is_index=True,
            state_operations=[
                remove_constraint("productsupplier", "product_one_primary_supplier"),
                migrations.AddConstraint(
                    model_name="productsupplier",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("is_primary", True)),
                        fields=("company", "product"),
                        name="product_one_primary_supplier",
                    ),
                ),
            ],
        ),
        RekeyUnique(
            "catalog_bundlecomponent",
            "bundle_component_unique",
            ["bundle_id", "component_id"],
            state_operations=[
                remove_constraint("bundlecomponent", "bundle_component_unique"),
                migrations.AddConstraint(
                    model_name="bundlecomponent",
                    constraint=models.UniqueConstraint(
                        fields=("company", "bundle", "component"), name="bundle_component_unique"
                    ),
                ),
            ],
        ),
        migrations.RunPython(install_registry, migrations.RunPython.noop, elidable=False),
        SameCompanyForeignKeys(
            [
                ("catalog_product", "product_type_id", "catalog_producttype"),
                ("catalog_productsupplier", "product_id", "catalog_product"),
                ("catalog_productsupplier", "supplier_id", "catalog_supplier"),
                ("catalog_bundlecomponent", "bundle_id", "catalog_product"),
                ("catalog_bundlecomponent", "component_id", "catalog_product"),
            ]
        ),
    ]
