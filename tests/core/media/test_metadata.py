"""Synthetic-media marking: the XMP packet and the plain text fields."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from facedeck.core.media.metadata import (
    DIGITAL_SOURCE_TYPE,
    synthetic_text_fields,
    synthetic_xmp_packet,
)
from facedeck.core.version import software_label


def test_xmp_packet_is_well_formed():
    packet = synthetic_xmp_packet()
    assert packet.startswith(b"<?xpacket begin=") and packet.endswith(b'<?xpacket end="w"?>')
    root = ET.fromstring(packet.decode("utf-8"))
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    description = root.find(f"{rdf}RDF/{rdf}Description")
    assert description is not None
    assert description.get("{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}DigitalSourceType") == (
        DIGITAL_SOURCE_TYPE
    )
    assert description.get("{http://ns.adobe.com/xap/1.0/}CreatorTool") == software_label()
    text = description.find(f"{{http://purl.org/dc/elements/1.1/}}description/{rdf}Alt/{rdf}li").text
    assert "synthetic" in text.lower() and "face-swap" in text.lower()


def test_text_fields_are_ascii_and_say_synthetic():
    fields = synthetic_text_fields()
    assert fields["Software"] == software_label()
    assert fields["DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert "synthetic" in fields["Comment"].lower()
    assert "compositeWithTrainedAlgorithmicMedia" in fields["Comment"]
    for value in fields.values():
        value.encode("ascii")
