"""Step 06, the two brands and the money: the premium brand's non-target (priced-out) leads
(``leads``, ``nontarget``), capture scenarios against today (``scenarios``), keep or merge
the brands (``merge``), the recommendation as data (``recommendation``), the profit formula
reconciled to actual revenue (``profit``) and the CRM specification (``crm_spec``)."""
