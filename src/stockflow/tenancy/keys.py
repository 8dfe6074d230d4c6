"""Tenant tables, and the foreign key that keeps a join between two of them in one company.

A *tenant table* is the table of a model with a ``company`` foreign key to ``Company``: its
rows belong to one company, and every statement that reads or writes them names that company
(``company_id = …``), every join of two of them equates their ``company_id``. The models
listed in ``NOT_TENANT`` have such a key but are read by user, before any company is known,
or are the platform's own (read across companies on purpose);
``tenant_tables`` is the one definition of the set (``tests/statements`` checks every
statement against it).
"""

from __future__ import annotations

from functools import cached_property

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models, router
from django.db.models.deletion import Collector
from django.db.models.fields.related_descriptors import (
    ForwardManyToOneDescriptor,
    ReverseManyToOneDescriptor,
)

COMPANY_FIELD = "company"

#: models with a ``company`` key that are not tenant tables, and why
NOT_TENANT = {
    "tenancy.Membership": "links a user to companies: read by user, to learn the companies",
    "web.UserPreference": "a user's setting (the company last chosen): read by user",
    "catalog.SkuRegistration": (
        "the platform's SKUs, one per product of any company: read by SKU, since a SKU is"
        " unique across the platform"
    ),
}


def is_tenant_model(model: type[models.Model]) -> bool:
    if model._meta.label in NOT_TENANT or model._meta.proxy:
        return False
    try:
        field = model._meta.get_field(COMPANY_FIELD)
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model._meta.label == "tenancy.Company"


def tenant_tables() -> frozenset[str]:
    return frozenset(m._meta.db_table for m in apps.get_models() if is_tenant_model(m))


def _company_column(model: type[models.Model]):
    return model._meta.get_field(COMPANY_FIELD)


def _in_companies(querysets, instances):
    """``querysets`` restricted to the companies of ``instances``, when every instance's
    company is known (not when one is deferred: reading it would cost a query per instance;
    nor for a row built by id only, or a row of a table without company)."""
    companies = {instance.__dict__.get("company_id") for instance in instances}
    if None in companies:
        return querysets
    return [qs.filter(company_id__in=sorted(companies)) for qs in querysets]


class _TenantForwardDescriptor(ForwardManyToOneDescriptor):
    """``line.product`` loads the product of the line's company; a prefetch of the related
    objects names the companies of the instances."""

    def get_prefetch_querysets(self, instances, querysets=None):
        if querysets is None:
            querysets = [self.get_queryset()]
        return super().get_prefetch_querysets(instances, _in_companies(querysets, instances))


class _TenantReverseDescriptor(ReverseManyToOneDescriptor):
    """``product.stock_levels`` reads the rows of the product's company."""

    @cached_property
    def related_manager_cls(self):
        base = super().related_manager_cls

        class TenantRelatedManager(base):
            def __init__(self, instance):
                super().__init__(instance)
                company_id = instance.__dict__.get("company_id")
                if company_id is not None:
                    self.core_filters["company_id"] = company_id

            def get_prefetch_querysets(self, instances, querysets=None):
                if querysets is None:
                    # the related model's queryset, without this manager's filters
                    querysets = [super(base, self).get_queryset()]
                querysets = _in_companies(querysets, instances)
                return super().get_prefetch_querysets(instances, querysets)

        return TenantRelatedManager


class TenantForeignKey(models.ForeignKey):
    """A foreign key between two tenant tables. Every join along it, both ways, also equates
    the two rows' ``company_id`` (``get_extra_restriction``, the technique of
    django-multitenant), and so does loading the related object (``product.warehouse``) or
    the related rows (``warehouse.stock_levels``).

    The database column and constraint are those of a plain ``ForeignKey`` (``deconstruct``
    says so): this changes the SQL the ORM writes, not the schema."""

    forward_related_accessor_class = _TenantForwardDescriptor
    related_accessor_class = _TenantReverseDescriptor

    def get_extra_restriction(self, alias, related_alias):
        # ``alias`` is the related model's table in the join, ``related_alias`` this model's;
        # None when the query trimmed that join away (nothing to equate then).
        if alias is None or related_alias is None:
            return None
        own = _company_column(self.model)
        other = _company_column(self.related_model)
        return own.get_lookup("exact")(own.get_col(related_alias), other.get_col(alias))

    def get_extra_descriptor_filter(self, instance):
        company_id = instance.__dict__.get("company_id")
        return {} if company_id is None else {"company_id": company_id}

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.ForeignKey", args, kwargs


def _in_company(queryset, instance):
    """``queryset`` restricted to ``instance``'s company, when its company is loaded."""
    company_id = instance.__dict__.get("company_id")
    return queryset if company_id is None else queryset.filter(company_id=company_id)


class TenantCollector(Collector):
    """Django's deletion collector, by company: the rows that reference a tenant row are
    looked for in its company, and the collected tenant rows are deleted by id *and*
    company (``DELETE … WHERE company_id IN (…) AND id IN (…)``), in the collector's
    dependency order, before the rows of other tables (which tenant rows may reference,
    never the other way round)."""

    def related_objects(self, related_model, related_fields, objs):
        rows = super().related_objects(related_model, related_fields, objs)
        if not is_tenant_model(related_model):
            return rows
        # A tenant queryset: the collector's ``only`` keeps the company of the rows it
        # collects, for the rows that cascade from them and for their own delete.
        rows = TenantQuerySet(related_model, query=rows.query, using=rows._db)
        return _in_companies([rows], objs)[0]

    def delete(self):
        self.sort()
        moved = []
        for model, instances in list(self.data.items()):
            companies = {instance.__dict__.get("company_id") for instance in instances}
            if (
                is_tenant_model(model)
                and None not in companies
                and not self._has_signal_listeners(model)
            ):
                rows = model._base_manager.using(self.using).filter(
                    company_id__in=sorted(companies), pk__in=[i.pk for i in instances]
                )
                self.fast_deletes.append(rows)
                moved += [(model, instance) for instance in self.data.pop(model)]
        result = super().delete()
        for model, instance in moved:
            setattr(instance, model._meta.pk.attname, None)
        return result


class TenantQuerySet(models.QuerySet):
    """The queryset of the tenant models: ``delete`` goes through ``TenantCollector``,
    ``bulk_update`` names the companies of the rows it updates, and ``only`` loads the
    company too (what the related rows of a row are read by)."""

    def only(self, *fields):
        if fields and "company_id" not in fields and COMPANY_FIELD not in fields:
            fields = (*fields, "company_id")
        return super().only(*fields)

    def delete(self):
        if self.query.is_sliced or self.query.distinct_fields or self._fields is not None:
            return super().delete()  # Django's refusal
        rows = self._chain()
        rows._for_write = True
        rows.query.select_for_update = False
        rows.query.select_related = False
        rows.query.clear_ordering(force=True)
        collector = TenantCollector(using=rows.db, origin=self)
        collector.collect(rows)
        self._result_cache = None
        return collector.delete()

    delete.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        """Django's ``bulk_update`` (``UPDATE … WHERE id IN (…)``), in the companies of
        ``objs`` when they are loaded."""
        objs = list(objs)
        rows = _in_companies([self], objs)[0]
        return super(TenantQuerySet, rows).bulk_update(objs, fields, batch_size)


class TenantModel(models.Model):
    """Base of the tenant models: saving a row updates it by id *and* company
    (``UPDATE … WHERE id = %s AND company_id = %s``), and so does reloading it; deleting it
    deletes it, and what cascades, by company (``TenantCollector``)."""

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, using=None, keep_parents=False):
        if not self._is_pk_set():
            return super().delete(using, keep_parents)  # Django's refusal
        collector = TenantCollector(
            using=using or router.db_for_write(type(self), instance=self), origin=self
        )
        collector.collect([self], keep_parents=keep_parents)
        return collector.delete()

    delete.alters_data = True

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        base_qs = _in_company(base_qs, self)
        return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if from_queryset is None:
            from_queryset = type(self)._base_manager.db_manager(using, hints={"instance": self})
        super().refresh_from_db(using, fields, _in_company(from_queryset, self))
