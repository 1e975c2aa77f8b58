"""The feed's two formats: XML in the ISO 15143-3 namespace (the default, as the standard's servers answer) and JSON
(`Accept: application/json` or `application/iso15143-snapshot+json`). Both write the same documents.Node tree."""

from rest_framework.renderers import BaseRenderer, JSONRenderer

from .documents import Node, to_json, to_xml


class IsoXmlRenderer(BaseRenderer):
    media_type = "application/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return to_xml(data)


class IsoJsonRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(to_json(data) if isinstance(data, Node) else data, accepted_media_type, renderer_context)


class IsoSnapshotJsonRenderer(IsoJsonRenderer):
    media_type = "application/iso15143-snapshot+json"
    format = "iso15143-json"
