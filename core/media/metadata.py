"""Marks every FaceDeck output as synthetic media.

Images carry an XMP packet with the IPTC digital source type for composites made with
trained algorithms (what C2PA-aware viewers and the IPTC photo metadata standard
read), plus plain text tags for readers that ignore XMP. The video pipeline reuses
:func:`synthetic_text_fields` for container tags.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ..version import software_label

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"

# The value's last path segment: short enough for single-line text tags.
_SOURCE_TYPE_CODE = DIGITAL_SOURCE_TYPE.rsplit("/", 1)[-1]

# The xpacket "begin" attribute must be the UTF-8 byte order mark (XMP spec part 1, 7.3.2).
_XPACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"


def synthetic_description() -> str:
    """One ASCII sentence saying the media is synthetic (EXIF ImageDescription is ASCII only)."""
    return (
        f"Synthetic media: faces were swapped with face-swap software ({software_label()}); "
        "this is not an authentic recording."
    )


def synthetic_xmp_packet() -> bytes:
    """A complete XMP packet (UTF-8) declaring the content synthetic.

    Holds ``Iptc4xmpExt:DigitalSourceType`` = :data:`DIGITAL_SOURCE_TYPE`,
    ``xmp:CreatorTool`` = the software label and a ``dc:description``.
    """
    packet = (
        f'<?xpacket begin="\ufeff" id="{_XPACKET_ID}"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f"    Iptc4xmpExt:DigitalSourceType={quoteattr(DIGITAL_SOURCE_TYPE)}\n"
        f"    xmp:CreatorTool={quoteattr(software_label())}>\n"
        "   <dc:description>\n"
        "    <rdf:Alt>\n"
        f'     <rdf:li xml:lang="x-default">{escape(synthetic_description())}</rdf:li>\n'
        "    </rdf:Alt>\n"
        "   </dc:description>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        # "w": the packet may be rewritten in place by other tools.
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def synthetic_text_fields() -> dict[str, str]:
    """Plain key/value tags for formats and containers that have no XMP (ASCII values)."""
    return {
        "Software": software_label(),
        "Comment": (
            f"Synthetic media made with face-swap software ({software_label()}); "
            f"IPTC digital source type {_SOURCE_TYPE_CODE}"
        ),
        "DigitalSourceType": DIGITAL_SOURCE_TYPE,
    }
